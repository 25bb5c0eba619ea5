from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from carbonpoints.api.error_docs import render

PAGE = Path(settings.BASE_DIR) / "docs" / "api-errors.md"


class Command(BaseCommand):
    help = "Write docs/api-errors.md from the error-code enums."

    def handle(self, *args, **options) -> None:
        PAGE.write_text(render() + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote {PAGE}")
