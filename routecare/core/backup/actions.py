"""Backing up and restoring: each writes an audit event, and says nothing about any person."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from routecare.audit.actions import record_system_event
from routecare.core import crypto
from routecare.core.backup import archive, databases
from routecare.core.backup.archive import BackupError, OpenedArchive
from routecare.core.backup.passphrase import check_strength

FIELD_KEYS_FILE = "field_keys"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


def _routecare_version() -> str:
    try:
        return version("routecare")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree never installed
        return "unknown"


def archive_name(created: dt.datetime) -> str:
    return f"routecare-backup-{created.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.tar"


def total_records(manifest: dict[str, Any]) -> int:
    return sum(int(entry["rows"]) for entry in manifest.get("records", {}).values())


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    manifest: dict[str, Any]
    seconds: float
    samples_checked: int
    samples_failed: list[str]
    audited: bool


def _check_samples(keyring: crypto.Keyring) -> tuple[int, list[str]]:
    """How many encrypted columns were sampled, and those whose sample the keys cannot read."""
    samples = databases.encrypted_samples()
    failed = []
    for context, stored in samples:
        try:
            keyring.decrypt(stored, context)
        except crypto.DecryptionError:
            failed.append(context)
    return len(samples), failed


def write_archive(
    path: Path,
    passphrase: str,
    created: dt.datetime,
    *,
    include_keys: bool = True,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Write a new archive at ``path`` (mode 0600, never over an existing file), read it back
    and return its manifest. Reads the database only; ``create_backup`` writes the audit event."""
    identity = archive.new_identity()
    sealed = archive.seal_identity(identity, passphrase)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as file:
        writer = archive.ArchiveWriter(file, mtime=int(created.timestamp()))
        writer.add(archive.HEADER, archive.header_json())
        writer.add(archive.IDENTITY, sealed)
        with databases.snapshot() as snapshot:
            records = sum(int(entry["rows"]) for entry in snapshot.records.values())
            progress(
                f"Dumping the {databases.vendor_name(snapshot.vendor)} database "
                f"({records:,} records in {len(snapshot.records)} tables of RouteCare)"
            )
            source = archive.ChunkReader(snapshot.chunks)
            try:
                writer.add_stream(
                    archive.DATABASE,
                    lambda out: archive.encrypt_stream(source, out, identity),
                )
            except OSError as error:
                snapshot.finish()  # pg_dump's own message, when it is what failed
                raise BackupError(f"writing {path} failed: {error}") from error
            snapshot.finish()
        keys_entry: dict[str, Any] = {"included": include_keys}
        if include_keys:
            keys = json.dumps(
                {
                    "ROUTECARE_FIELD_KEYS": settings.ROUTECARE_FIELD_KEYS,
                    "SECRET_KEY": settings.SECRET_KEY,
                }
            ).encode()
            writer.add(archive.KEYS, archive.encrypt(keys, identity))
            keys_entry["sha256"] = hashlib.sha256(keys).hexdigest()
        keys_entry["field_key_ids"] = list(crypto.keyring().keys)
        manifest = {
            "format": archive.FORMAT,
            "version": archive.VERSION,
            "created_at": created.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "routecare_version": _routecare_version(),
            "database": {
                "vendor": snapshot.vendor,
                **snapshot.details,
                "bytes": source.size,
                "sha256": source.sha256.hexdigest(),
            },
            "migrations": snapshot.migrations,
            "tables": snapshot.tables,
            "records": snapshot.records,
            "keys": keys_entry,
        }
        writer.add(archive.MANIFEST, archive.encrypt(json.dumps(manifest).encode(), identity))
        writer.close()
        file.flush()
        os.fsync(file.fileno())
    progress("Reading the archive back: every member decrypts and the dump is whole")
    archive.decrypt_database(archive.reopen_archive(path, identity, sealed), None)
    return manifest


def create_backup(
    output_dir: Path,
    passphrase: str,
    *,
    include_keys: bool = True,
    progress: Progress = _quiet,
) -> BackupResult:
    """Write ``routecare-backup-<UTC time>.tar`` in ``output_dir``. It is written under a
    temporary name and read back whole before it gets its own: an archive under that name is
    complete."""
    check_strength(passphrase)
    if not output_dir.is_dir():
        raise BackupError(f"the output folder does not exist: {output_dir}")
    started = time.monotonic()
    created = timezone.now().replace(microsecond=0)
    final = output_dir / archive_name(created)
    if final.exists():
        raise BackupError(f"{final} already exists")
    partial = output_dir / f".{final.name}.partial"
    try:
        manifest = write_archive(
            partial, passphrase, created, include_keys=include_keys, progress=progress
        )
        partial.rename(final)
    except FileExistsError as error:
        raise BackupError(f"{error.filename} already exists") from error
    finally:
        if partial.exists() and not final.exists():
            partial.unlink()
    with contextlib.suppress(OSError):  # some file systems (a FAT memory stick) cannot
        directory = os.open(output_dir, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    try:
        record_system_event(
            "export",
            "backup",
            final.name,
            detail=(
                f"{databases.vendor_name(manifest['database']['vendor'])}, "
                f"{total_records(manifest)} records, "
                f"keys {'included' if include_keys else 'not included'}"
            ),
        )
        audited = True
    except DatabaseError:  # a read-only database (a standby): the archive is still good
        audited = False
    # Keys that do not read the data make an archive that restores unreadable records.
    checked, failed = _check_samples(crypto.keyring())
    return BackupResult(
        final, final.stat().st_size, manifest, time.monotonic() - started, checked, failed, audited
    )


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    records: int
    seconds: float
    pending_migrations: list[str]
    samples_checked: int
    samples_failed: list[str] = field(default_factory=list)
    audited: bool = True


def _known_migrations() -> set[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def check_restorable(opened: OpenedArchive, *, replace: bool) -> databases.Target:
    """Everything that can be known before the database is touched."""
    manifest = opened.manifest
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"this is a backup of a {databases.vendor_name(vendor)} database and DATABASE_URL "
            f"points at {databases.vendor_name(connection.vendor)}: restore it into "
            f"{databases.vendor_name(vendor)}"
        )
    unknown = sorted(set(manifest.get("migrations", [])) - _known_migrations())
    if unknown:
        raise BackupError(
            f"the backup was made by a newer RouteCare: its database has {len(unknown)} "
            f"migrations this one does not know ({', '.join(unknown[:3])}); upgrade RouteCare, "
            "then restore"
        )
    target = databases.inspect_target()
    if target.tables_with_rows and not replace:
        raise BackupError(
            f"the {target.description} already holds data ({len(target.tables_with_rows)} "
            f"tables with rows, e.g. {', '.join(target.tables_with_rows[:3])}): restore into a "
            "new, empty database, or add --replace to replace everything in it"
        )
    extra = sorted(set(target.tables) - set(manifest.get("tables", [])))
    if vendor == "postgresql" and extra:
        raise BackupError(
            f"the {target.description} has tables the backup does not ({', '.join(extra[:3])}"
            f"{', …' if len(extra) > 3 else ''}): restore into a new database, created empty "
            "(createdb, without routecare migrate)"
        )
    if vendor == "postgresql":
        databases.check_postgres_restore_client(int(manifest["database"]["dump_tool_major"]))
    return target


def restore_backup(
    opened: OpenedArchive, *, replace: bool = False, progress: Progress = _quiet
) -> RestoreResult:
    """Restore the archive's database into the database of DATABASE_URL, then check it: the
    record counts against the manifest, and one stored value of every encrypted column against
    the archive's field keys (or this instance's, for an archive made without keys)."""
    started = time.monotonic()
    target = check_restorable(opened, replace=replace)
    manifest = opened.manifest

    def feed(sink: Callable[[bytes], object]) -> None:
        archive.decrypt_database(opened, sink)

    if manifest["database"]["vendor"] == "sqlite":
        progress(f"Restoring into the {target.description}")
        databases.restore_sqlite(feed)
    else:
        # pg_restore reads as it goes: the whole dump is authenticated first.
        progress("Checking the dump in the archive")
        archive.decrypt_database(opened, None)
        progress(f"Restoring into the {target.description} with pg_restore, in one transaction")
        databases.restore_postgresql(feed, clean=bool(target.tables))
    expected = {entry["table"]: int(entry["rows"]) for entry in manifest["records"].values()}
    counted = databases.count_rows(expected)
    differing = [table for table, rows in expected.items() if counted[table] != rows]
    if differing:
        raise BackupError(
            "the database was restored but its record counts differ from the archive's "
            f"manifest in {', '.join(differing[:5])}: do not use it, restore again"
        )
    keyring = (
        crypto.parse_keys(opened.keys["ROUTECARE_FIELD_KEYS"]) if opened.keys else crypto.keyring()
    )
    checked, failed = _check_samples(keyring)
    executor = MigrationExecutor(connection)
    pending = [
        f"{migration.app_label}.{migration.name}"
        for migration, _backwards in executor.migration_plan(executor.loader.graph.leaf_nodes())
    ]
    try:
        record_system_event(
            "change",
            "database",
            opened.path.name,
            detail=(
                f"restored: backup of {manifest['created_at']}, {sum(expected.values())} records"
            ),
        )
        audited = True
    except DatabaseError:  # an older schema: `routecare migrate` first, as the command says
        audited = False
    return RestoreResult(
        manifest=manifest,
        records=sum(expected.values()),
        seconds=time.monotonic() - started,
        pending_migrations=pending,
        samples_checked=checked,
        samples_failed=failed,
        audited=audited,
    )


def check_keys_destination(folder: Path) -> None:
    """Refuse before anything is restored a folder where the keys could not be written."""
    if folder.exists() and not folder.is_dir():
        raise BackupError(f"--keys-out {folder} is not a folder")
    for name in (FIELD_KEYS_FILE, SECRET_KEY_FILE):
        if (folder / name).exists():
            raise BackupError(
                f"{folder / name} already exists: choose another --keys-out folder "
                "(keys are never overwritten)"
            )
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BackupError(f"cannot write the keys into {folder}: permission denied")


def write_keys(folder: Path, keys: dict[str, str]) -> dict[str, Path]:
    """The keys as ROUTECARE_FIELD_KEYS_FILE and SECRET_KEY_FILE read them, mode 0600, in a
    folder only the owner may enter."""
    check_keys_destination(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = {}
    for setting, name in (
        ("ROUTECARE_FIELD_KEYS", FIELD_KEYS_FILE),
        ("SECRET_KEY", SECRET_KEY_FILE),
    ):
        handle = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(keys[setting] + "\n")
        written[f"{setting}_FILE"] = folder / name
    return written


def keys_in_use(keys: dict[str, str]) -> bool:
    """Whether this instance already runs with the archive's keys."""
    return (
        keys["ROUTECARE_FIELD_KEYS"] == settings.ROUTECARE_FIELD_KEYS
        and keys["SECRET_KEY"] == settings.SECRET_KEY
    )
