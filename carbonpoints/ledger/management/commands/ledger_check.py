import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from carbonpoints.ledger.services import ledger_check_record


class Command(BaseCommand):
    help = "Re-derive every ledger balance from its postings; exit non-zero on any mismatch."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        run = ledger_check_record()
        report = {
            "ok": run.ok,
            "accounts_checked": run.accounts_checked,
            "transactions_checked": run.transactions_checked,
            "problems": run.problems,
            "figures": run.figures,
        }
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            self.stdout.write(
                f"{run.accounts_checked} accounts, {run.transactions_checked} transactions checked"
            )
            for name, figures in run.figures.items():
                self.stdout.write(f"{name}: {json.dumps(figures, ensure_ascii=False)}")
            for problem in run.problems:
                self.stdout.write(self.style.ERROR(json.dumps(problem, ensure_ascii=False)))
        if not run.ok:
            raise CommandError(f"ledger check failed: {len(run.problems)} problem(s)")
        if not options["json"]:
            self.stdout.write(self.style.SUCCESS("every balance re-derives from the ledger"))
