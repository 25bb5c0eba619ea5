import json

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from redemption.models import Merchant
from redemption.services import merchant_create


class Command(BaseCommand):
    help = "Create a merchant and its manager; prints the manager's password once."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--manager-email", required=True)
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options):
        name, manager_email = options["name"], options["manager_email"]
        if Merchant.objects.filter(name=name).exists():
            raise CommandError(f"a merchant named {name!r} exists already")
        if User.objects.filter(email__iexact=manager_email).exists():
            raise CommandError(f"{manager_email} has an account already")
        merchant, password = merchant_create(name=name, manager_email=manager_email)
        result = {
            "merchant_id": merchant.pk,
            "manager_email": manager_email.lower(),
            "password": password,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"merchant {merchant.name} #{merchant.pk} created")
            )
            self.stdout.write(f"manager: {result['manager_email']}  password: {password}")
