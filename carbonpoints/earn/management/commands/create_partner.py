import json

from django.core.management.base import BaseCommand, CommandError

from carbonpoints.earn.exceptions import UnknownActions
from carbonpoints.earn.models import Partner
from carbonpoints.earn.services import partner_create


class Command(BaseCommand):
    help = "Create a partner approved for some action types; prints its key id and secret (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--actions",
            required=True,
            help="comma-separated action codes, e.g. metro_ride,bus_ride",
        )
        parser.add_argument("--json", action="store_true", help="print JSON on stdout")

    def handle(self, *args, **options):
        actions = [a.strip() for a in options["actions"].split(",") if a.strip()]
        if not actions:
            raise CommandError("name at least one action type")
        if Partner.objects.filter(name=options["name"]).exists():
            raise CommandError(f"a partner named {options['name']!r} exists already")
        try:
            partner, key, secret = partner_create(name=options["name"], actions=actions)
        except UnknownActions as exc:
            raise CommandError(f"unknown action types: {exc}") from None
        result = {"partner_id": partner.pk, "key_id": key.key_id, "secret": secret}
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                f"partner {partner.pk} ({partner.name}): key id {key.key_id}\n"
                f"secret (shown once, keep it safe): {secret}"
            )
