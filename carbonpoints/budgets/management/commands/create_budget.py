import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from carbonpoints.budgets.models import Budget, Sponsor
from carbonpoints.budgets.services import budget_deposit
from carbonpoints.errors import DomainError
from carbonpoints.regions.commands import add_operator_arguments, operator_from, regions_from


class Command(BaseCommand):
    help = "Open a sponsor's budget in force from now and deposit its first points (the admin does the same)."

    def add_arguments(self, parser):
        parser.add_argument("--sponsor", required=True, help="the sponsor's name (created if new)")
        parser.add_argument("--name", required=True, help="the budget's name, e.g. 2026")
        parser.add_argument("--points", type=int, required=True)
        parser.add_argument(
            "--yuan", required=True, help="money paid for the points, in CNY, e.g. 10000.00"
        )
        parser.add_argument("--days", type=int, default=365, help="how long the budget is in force")
        parser.add_argument(
            "--actions", default="", help="comma-separated scenes it funds; none: every scene"
        )
        add_operator_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print JSON on stdout")

    def handle(self, *args, **options):
        try:
            yuan_fen = int(Decimal(options["yuan"]) * 100)
        except InvalidOperation:
            raise CommandError("--yuan must be a number of CNY, e.g. 10000.00") from None
        if options["days"] < 1:
            raise CommandError("--days must be at least 1")
        operator = operator_from(options)
        (region,) = regions_from(options, operator)
        now = timezone.now()
        sponsor, _ = Sponsor.objects.get_or_create(name=options["sponsor"])
        budget = Budget.objects.create(
            sponsor=sponsor,
            name=options["name"],
            region_id=region,
            starts_at=now,
            ends_at=now + timedelta(days=options["days"]),
            actions=[a.strip() for a in options["actions"].split(",") if a.strip()],
        )
        try:
            budget_deposit(
                budget=budget,
                points=options["points"],
                yuan_fen=yuan_fen,
                operator=operator,
                note="create_budget",
            )
        except DomainError as refused:
            raise CommandError(str(refused)) from None
        if options["json"]:
            self.stdout.write(
                json.dumps({"budget_id": budget.pk, "sponsor_id": sponsor.pk, "region": region})
            )
        else:
            self.stdout.write(
                f"budget {budget.pk} ({budget}, region {region}): {options['points']:,} points "
                f"in force until "
                f"{budget.ends_at:%Y-%m-%d}"
            )
