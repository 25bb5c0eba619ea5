import json

from django.core.management.base import BaseCommand, CommandError

from carbonpoints.earn.exceptions import UnknownActions
from carbonpoints.earn.models import Partner
from carbonpoints.earn.services import partner_create
from carbonpoints.regions.commands import add_operator_arguments, operator_from, regions_from


class Command(BaseCommand):
    help = "Create a partner approved for some action types; prints its key id and secret (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--actions",
            required=True,
            help="comma-separated action codes, e.g. metro_ride,bus_ride",
        )
        add_operator_arguments(parser, regions=True)
        parser.add_argument("--json", action="store_true", help="print JSON on stdout")

    def handle(self, *args, **options):
        actions = [a.strip() for a in options["actions"].split(",") if a.strip()]
        if not actions:
            raise CommandError("name at least one action type")
        operator = operator_from(options)
        regions = regions_from(options, operator, many=True)
        if Partner.objects.filter(name=options["name"]).exists():
            raise CommandError(f"a partner named {options['name']!r} exists already")
        named = options["regions"] or operator is not None  # else approved for none, as before
        try:
            partner, key, secret = partner_create(
                name=options["name"], actions=actions, regions=regions if named else None
            )
        except UnknownActions as exc:
            raise CommandError(f"unknown action types: {exc}") from None
        if operator is not None:
            Partner.objects.filter(pk=partner.pk).update(written_by=operator)
        result = {
            "partner_id": partner.pk,
            "key_id": key.key_id,
            "secret": secret,
            "regions": regions,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                f"partner {partner.pk} ({partner.name}, regions {', '.join(regions)}): "
                f"key id {key.key_id}\n"
                f"secret (shown once, keep it safe): {secret}"
            )
