from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from routecare.core.crypto import keyring
from routecare.core.rotation import rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt sensitive fields under the current key (the first in ROUTECARE_FIELD_KEYS). "
        "Dry run by default: shows how many values each key id protects."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apply", action="store_true", help="rewrite values under old keys")

    def handle(self, *args: Any, **options: Any) -> None:
        current = keyring().current_id
        reports = rotate(apply=options["apply"])
        self.stdout.write(f"Current key: {current}")
        for report in reports:
            counts = ", ".join(f"{key}: {n}" for key, n in sorted(report.by_key.items())) or "empty"
            line = f"  {report.column:<40} {counts}"
            if options["apply"]:
                line += f"  (re-encrypted {report.rewritten})"
            self.stdout.write(line)
        if not options["apply"]:
            self.stdout.write("Dry run: nothing changed. Run with --apply to re-encrypt.")
