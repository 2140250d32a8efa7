from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from routecare.core.backup.actions import (
    check_keys_destination,
    keys_in_use,
    restore_backup,
    total_records,
    write_keys,
)
from routecare.core.backup.archive import (
    BackupError,
    OpenedArchive,
    decrypt_database,
    open_archive,
)
from routecare.core.backup.databases import vendor_name
from routecare.core.backup.passphrase import ENVIRONMENT, read_passphrase


class Command(BaseCommand):
    # A backup or restore must not be blocked by an unrelated system check failing.
    requires_system_checks: list[str] = []

    help = (
        "Restore an archive made by `routecare backup` into the database of DATABASE_URL, "
        "which must hold no data (create it empty; --replace replaces what it holds). The "
        "archive's keys go to --keys-out (default: a new folder under .local/); keys are printed "
        f"only with --print-keys. The passphrase comes as for backup ({ENVIRONMENT}…)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="a routecare-backup-….tar file")
        parser.add_argument("--passphrase-file", help="read the passphrase from this file")
        parser.add_argument(
            "--keys-out",
            help="folder for the files field_keys and secret_key (mode 0600), as "
            "ROUTECARE_FIELD_KEYS_FILE and SECRET_KEY_FILE read them",
        )
        parser.add_argument(
            "--print-keys", action="store_true", help="print the keys on standard output"
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace everything in a database that already holds data",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="only check that the passphrase opens the archive and that it is whole",
        )
        parser.add_argument(
            "--keys-only",
            action="store_true",
            help="only write (or print) the archive's keys; the database is not touched",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["keys_out"]:
                # Refused before the passphrase is asked for and the archive opened.
                check_keys_destination(Path(options["keys_out"]))
            passphrase = read_passphrase(options["passphrase_file"], confirm=False)
            opened = open_archive(Path(options["archive"]), passphrase)
            self._describe(opened)
            if options["check"]:
                decrypt_database(opened, None)
                self.stdout.write("The archive is whole and its passphrase opens it.")
                return
            keys_out = self._keys_destination(opened, options)
            if not options["keys_only"]:
                self._restore(opened, replace=options["replace"])
            self._hand_over_keys(opened, keys_out, print_keys=options["print_keys"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        except DatabaseError as error:
            raise CommandError(f"the database failed: {error}".strip()) from error

    def _describe(self, opened: OpenedArchive) -> None:
        manifest = opened.manifest
        self.stderr.write(
            f"{opened.path.name}: backup of {manifest['created_at']}, "
            f"{vendor_name(manifest['database']['vendor'])}, "
            f"{total_records(manifest):,} records, RouteCare {manifest['routecare_version']}, "
            f"keys {'included' if opened.keys else 'not included'}"
        )

    def _keys_destination(self, opened: OpenedArchive, options: dict[str, Any]) -> Path | None:
        if opened.keys is None:
            if options["keys_only"] or options["keys_out"] or options["print_keys"]:
                raise BackupError("this archive was made --without-keys: it holds no keys")
            return None
        if options["keys_out"]:
            folder = Path(options["keys_out"])
        elif options["print_keys"] or keys_in_use(opened.keys):
            return None
        else:
            stamp = opened.manifest["created_at"].replace("-", "").replace(":", "")
            folder = Path(settings.LOCAL_DIR) / f"restored-keys-{stamp}"
        check_keys_destination(folder)
        return folder

    def _restore(self, opened: OpenedArchive, *, replace: bool) -> None:
        result = restore_backup(
            opened, replace=replace, progress=lambda message: self.stderr.write(message)
        )
        self.stdout.write(
            f"Restored {result.records:,} records in {len(result.manifest['records'])} tables "
            f"in {result.seconds:.1f} s."
        )
        if result.samples_failed:
            self.stderr.write(
                self.style.WARNING(
                    f"{len(result.samples_failed)} encrypted columns do not decrypt with "
                    f"{'the archive' if opened.keys else 'this instance'}'s field keys "
                    f"({', '.join(result.samples_failed[:5])}): RouteCare cannot read them "
                    "without the keys that were in use when the backup was made."
                )
            )
        else:
            self.stdout.write(
                f"Encrypted values: a sample of each of {result.samples_checked} columns "
                f"decrypts with {'the archive' if opened.keys else 'this instance'}'s field keys."
            )
        if result.pending_migrations:
            self.stdout.write(
                f"This RouteCare has {len(result.pending_migrations)} migrations newer than the "
                "backup: run `routecare migrate` before starting it."
            )
        if not result.audited:
            self.stderr.write(
                self.style.WARNING(
                    "The restore could not be written to the audit trail of this older schema."
                )
            )

    def _hand_over_keys(
        self, opened: OpenedArchive, folder: Path | None, *, print_keys: bool
    ) -> None:
        if opened.keys is None:
            key_ids = ", ".join(opened.manifest["keys"].get("field_key_ids", []))
            self.stdout.write(
                "The archive holds no keys: run RouteCare with the field keys in use when it "
                f"was made (key ids {key_ids}) and its SECRET_KEY, from your secret store."
            )
            return
        if folder is not None:
            written = write_keys(folder, opened.keys)
            self.stdout.write(
                f"Keys written to {folder} (mode 0600). Before starting RouteCare on this "
                "database, set (or copy the files into your secret store and delete them):"
            )
            for setting, path in written.items():
                self.stdout.write(f"  {setting}={path}")
        elif not print_keys:
            self.stdout.write("This instance already runs with the archive's keys.")
        if print_keys:
            for setting in ("ROUTECARE_FIELD_KEYS", "SECRET_KEY"):
                self.stdout.write(f"{setting}={opened.keys[setting]}")
