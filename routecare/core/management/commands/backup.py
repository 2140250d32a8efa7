from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from routecare.core.backup.actions import create_backup, total_records
from routecare.core.backup.archive import BackupError
from routecare.core.backup.databases import vendor_name
from routecare.core.backup.passphrase import ENVIRONMENT, read_passphrase


class Command(BaseCommand):
    # A backup or restore must not be blocked by an unrelated system check failing.
    requires_system_checks: list[str] = []

    help = (
        "Write an encrypted, dated backup archive: the database, and the field keys and "
        "SECRET_KEY that read it, protected by a passphrase (--passphrase-file, "
        f"{ENVIRONMENT} or {ENVIRONMENT}_FILE, or typed at a terminal). "
        "`routecare restore` brings it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", default=".", help="folder for the archive (default: the current one)"
        )
        parser.add_argument("--passphrase-file", help="read the passphrase from this file")
        parser.add_argument(
            "--without-keys",
            action="store_true",
            help="leave the field keys and SECRET_KEY out (restore then needs them from your "
            "secret store)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            passphrase = read_passphrase(options["passphrase_file"], confirm=True)
            result = create_backup(
                Path(options["output"]),
                passphrase,
                include_keys=not options["without_keys"],
                progress=lambda message: self.stderr.write(message),
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        except DatabaseError as error:
            raise CommandError(f"the database failed: {error}".strip()) from error
        manifest = result.manifest
        keys = (
            "with the field keys and SECRET_KEY"
            if manifest["keys"]["included"]
            else "WITHOUT the keys (keep them in your secret store)"
        )
        self.stdout.write(
            f"Wrote {result.path} ({result.size / 1e6:,.1f} MB, mode 0600) in "
            f"{result.seconds:.1f} s: {vendor_name(manifest['database']['vendor'])} database, "
            f"{total_records(manifest):,} records in {len(manifest['records'])} tables, {keys}."
        )
        if result.samples_failed:
            self.stderr.write(
                self.style.WARNING(
                    f"{len(result.samples_failed)} encrypted columns hold values this instance's "
                    f"field keys do not decrypt ({', '.join(result.samples_failed[:5])}): "
                    "the archive's keys will not read them either."
                )
            )
        if not result.audited:
            self.stderr.write(
                self.style.WARNING("The backup could not be written to the audit trail.")
            )
        self.stdout.write(
            "Keep the passphrase apart from the archive: whoever has both can read every record."
        )
