import json
import logging
from contextlib import contextmanager

from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

DEMO_PASSWORD = "carbon-demo-2026"

STEPS = [
    # (what it seeds, the function); each is idempotent: a second run adds nothing
    ("people", "accounts.demo.seed"),
    ("sponsors and their budgets", "carbonpoints.budgets.demo.seed"),
    ("partners and their members' actions", "carbonpoints.earn.demo.seed"),
    ("Hubei: Yichang and Xiangyang", "carbonpoints.regions.demo.seed"),
    ("budgets' forecasts and alerts", "carbonpoints.budgets.demo.watch"),
    ("merchants", "redemption.demo.seed"),
    ("rankings", "accounts.demo.rank"),
    ("levels, badges and the leaderboard", "carbonpoints.evaluation.demo.seed"),
    ("inboxes", "carbonpoints.notifications.demo.seed"),
    ("approvals and claims", "carbonpoints.claims.demo.seed"),
    ("clearing between cities", "redemption.demo.clear"),
]


class Command(BaseCommand):
    help = "Load the demo province, Hubei, and its cities (safe to run again: what exists is left as it is)."

    def add_arguments(self, parser):
        parser.add_argument("--citizens", type=int, default=300, help="how many demo citizens")
        parser.add_argument("--json", action="store_true", help="print the demo logins as JSON")

    def handle(self, *args, **options):
        logins: dict[str, str] = {}
        with _quiet_warnings():
            for number, (label, path) in enumerate(STEPS, start=1):
                if not options["json"]:
                    self.stdout.write(f"[{number}/{len(STEPS)}] {label}…")
                seed = import_string(path)
                logins.update(
                    seed(
                        password=DEMO_PASSWORD, citizens=options["citizens"], log=self._log(options)
                    )
                )
        if options["json"]:
            self.stdout.write(json.dumps({"password": DEMO_PASSWORD, "logins": logins}))
            return
        self.stdout.write(self.style.SUCCESS("demo city ready; sign in with:"))
        for role, email in logins.items():
            self.stdout.write(f"  {role:<10} {email}  /  {DEMO_PASSWORD}")

    def _log(self, options):
        def log(message: str) -> None:
            if not options["json"]:
                self.stdout.write(f"      {message}")

        return log


@contextmanager
def _quiet_warnings():
    """The demo sets off what a running city warns about (a budget running low…): each step says what
    it did in its own words, so those warnings are not printed between them; errors still are."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
