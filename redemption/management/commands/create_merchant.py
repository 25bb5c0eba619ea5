import json

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from carbonpoints.regions.commands import add_operator_arguments, operator_from, regions_from
from redemption.models import Merchant
from redemption.services import merchant_create


class Command(BaseCommand):
    help = "Create a merchant and its manager; prints the manager's password once."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--manager-email", required=True)
        add_operator_arguments(parser)
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        name, manager_email = options["name"], options["manager_email"]
        operator = operator_from(options)
        (region,) = regions_from(options, operator)
        if Merchant.objects.filter(name=name).exists():
            raise CommandError(f"a merchant named {name!r} exists already")
        if User.objects.filter(email__iexact=manager_email).exists():
            raise CommandError(f"{manager_email} has an account already")
        merchant, password = merchant_create(name=name, manager_email=manager_email, region=region)
        if operator is not None:
            Merchant.objects.filter(pk=merchant.pk).update(written_by=operator)
        result = {
            "region": region,
            "merchant_id": merchant.pk,
            "manager_email": manager_email.lower(),
            "password": password,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"merchant {merchant.name} #{merchant.pk} created in region {region}"
                )
            )
            self.stdout.write(f"manager: {result['manager_email']}  password: {password}")
