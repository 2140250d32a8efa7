"""What differs between SQLite and PostgreSQL: a consistent snapshot to dump, and the restore.

SQLite (the field laptop): the online backup API copies the live database, consistent even while
the server writes, into a file beside it; the copy is gzipped into the archive. PostgreSQL: one
REPEATABLE READ transaction exports its snapshot, counts the records in it and hands it to
``pg_dump --snapshot``, so the manifest describes exactly what was dumped; ``pg_restore`` loads
the dump in a single transaction, so a restore that fails changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.db import connection

from routecare.core.backup.archive import BackupError, DamagedArchiveError
from routecare.core.rotation import encrypted_columns

CHUNK = 1024 * 1024
# Rows `routecare migrate` writes by itself: a database holding only these is still empty.
BOOKKEEPING_TABLES = {"django_migrations", "django_content_type", "auth_permission"}
# Level 1: less than half level 6's time for 12 % more bytes (1.1 GB of SQLite: 11 s of CPU and
# 250 MB against 27 s and 224 MB), on field laptops with slow processors.
GZIP_LEVEL = 1
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
_PG_TABLES = """
    SELECT c.relname FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND pg_catalog.pg_table_is_visible(c.oid)
"""

Feed = Callable[[Callable[[bytes], object]], None]


@dataclass
class Snapshot:
    """A consistent state of the database: what it holds, and its dump as a stream of chunks.
    ``finish`` is called once the chunks are read, and raises if the dump failed."""

    vendor: str
    details: dict[str, str]
    tables: list[str]
    records: dict[str, dict[str, Any]]
    migrations: list[str]
    chunks: Iterator[bytes]
    finish: Callable[[], None]


@dataclass(frozen=True)
class Target:
    vendor: str
    description: str
    tables: list[str]
    tables_with_rows: list[str]


def vendor_name(vendor: str) -> str:
    return VENDOR_NAMES.get(vendor, vendor)


def _model_tables() -> dict[str, str]:
    return {
        model._meta.label_lower: model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
    }


def _records(tables: Iterable[str], count: Callable[[str], int]) -> dict[str, dict[str, Any]]:
    present = set(tables)
    quote = connection.ops.quote_name
    return {
        label: {"table": table, "rows": count(f"SELECT count(*) FROM {quote(table)}")}  # noqa: S608 - model metadata
        for label, table in sorted(_model_tables().items())
        if table in present
    }


def _migrations(tables: Iterable[str], rows: Callable[[str], list[Any]]) -> list[str]:
    if "django_migrations" not in set(tables):
        return []
    return sorted(f"{app}.{name}" for app, name in rows("SELECT app, name FROM django_migrations"))


@contextmanager
def snapshot() -> Iterator[Snapshot]:
    if connection.in_atomic_block:
        raise BackupError("a backup cannot be taken inside a transaction")
    if connection.vendor == "sqlite":
        with _sqlite_snapshot() as taken:
            yield taken
    elif connection.vendor == "postgresql":
        with _postgresql_snapshot() as taken:
            yield taken
    else:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}")


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _in_memory() -> bool:
    name = str(connection.settings_dict["NAME"])
    return name == ":memory:" or "mode=memory" in name


def _sqlite_folder() -> Path:
    """Where a plaintext copy may lie for a moment: beside the database file it copies."""
    if _in_memory():
        return Path(tempfile.gettempdir())
    return Path(str(connection.settings_dict["NAME"])).resolve().parent


def _gzip_chunks(path: Path) -> Iterator[bytes]:
    deflate = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip stream
    with path.open("rb") as copy:
        while block := copy.read(CHUNK):
            if compressed := deflate.compress(block):
                yield compressed
    yield deflate.flush()


@contextmanager
def _sqlite_snapshot() -> Iterator[Snapshot]:
    connection.ensure_connection()
    live: sqlite3.Connection = connection.connection
    handle, name = tempfile.mkstemp(
        prefix=".routecare-backup-", suffix=".sqlite3", dir=_sqlite_folder()
    )
    os.close(handle)
    copy_path = Path(name)
    try:
        copy = sqlite3.connect(copy_path)
        try:
            live.backup(copy)
            # The copy is read as a file: everything must be in it, not in a write-ahead log.
            copy.execute("PRAGMA journal_mode=DELETE")
            tables = sorted(
                row[0]
                for row in copy.execute(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            )
            records = _records(tables, lambda sql: int(copy.execute(sql).fetchone()[0]))
            migrations = _migrations(tables, lambda sql: copy.execute(sql).fetchall())
        finally:
            copy.close()
        yield Snapshot(
            vendor="sqlite",
            details={
                "server_version": sqlite3.sqlite_version,
                "content": "SQLite database file, gzip",
            },
            tables=tables,
            records=records,
            migrations=migrations,
            chunks=_gzip_chunks(copy_path),
            finish=lambda: None,
        )
    finally:
        _remove_sqlite_files(copy_path)


def _postgres_client(name: str) -> tuple[str, int, str]:
    """The path, major version and version line of pg_dump or pg_restore."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found: install PostgreSQL's client programs, of the server's major "
            "version or newer (Debian: apt-get install postgresql-client)"
        )
    line = subprocess.run(  # noqa: S603 - a PostgreSQL client program found on PATH
        [path, "--version"], capture_output=True, text=True, check=False, timeout=60
    ).stdout.strip()
    match = re.search(r"\)\s*(\d+)", line)
    if match is None:
        raise BackupError(f"cannot tell the version of {path} ({line!r})")
    return path, int(match.group(1)), line


def _postgres_environment() -> dict[str, str]:
    """How pg_dump and pg_restore reach the database of DATABASE_URL (the password never goes
    on a command line, where other users of the machine could read it)."""
    settings_dict = connection.settings_dict
    options = settings_dict.get("OPTIONS") or {}
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGSSLMODE": options.get("sslmode"),
        "PGSSLROOTCERT": options.get("sslrootcert"),
        "PGSSLCERT": options.get("sslcert"),
        "PGSSLKEY": options.get("sslkey"),
        "PGPASSFILE": options.get("passfile"),
    }
    environment = dict(os.environ)
    environment.update({name: str(value) for name, value in values.items() if value})
    return environment


def _first_error(errors: IO[bytes]) -> str:
    """pg_dump's or pg_restore's first error line. Context lines are left out: they can quote
    the row being copied."""
    errors.seek(0)
    lines = errors.read().decode("utf-8", "replace").splitlines()
    for line in lines:
        if "error:" in line or "FATAL" in line:
            return line.strip()[:300]
    return (lines[0].strip()[:300] if lines else "") or "no message"


@contextmanager
def _postgresql_snapshot() -> Iterator[Snapshot]:
    pg_dump, client_major, client_line = _postgres_client("pg_dump")
    with connection.wrap_database_errors:  # driver errors as Django's, which the command reports
        session: Any = connection.get_new_connection(connection.get_connection_params())
    try:
        with connection.wrap_database_errors:
            session.autocommit = True
            cursor = session.cursor()
            # One snapshot for the counts and the dump: the manifest describes what was dumped.
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute(
                "SELECT pg_export_snapshot(), current_setting('server_version_num')::int, "
                "current_setting('server_version')"
            )
            snapshot_id, server_number, server_version = cursor.fetchone()
            if client_major < server_number // 10000:
                raise BackupError(
                    f"pg_dump {client_major} is older than the PostgreSQL {server_number // 10000} "
                    f"server: install postgresql-client-{server_number // 10000} and put its bin "
                    "folder first on PATH"
                )
            cursor.execute(_PG_TABLES)
            tables = sorted(row[0] for row in cursor.fetchall())

            def count(sql: str) -> int:
                cursor.execute(sql)
                return int(cursor.fetchone()[0])

            def rows(sql: str) -> list[Any]:
                cursor.execute(sql)
                return list(cursor.fetchall())

            records = _records(tables, count)
            migrations = _migrations(tables, rows)
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(  # noqa: S603 - pg_dump with arguments we build
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    "--no-password",
                    f"--dbname={connection.settings_dict['NAME']}",
                ],
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_postgres_environment(),
            )
            assert process.stdout is not None  # noqa: S101 - stdout=PIPE

            def finish() -> None:
                if process.wait() != 0:
                    raise BackupError(f"pg_dump failed: {_first_error(errors)}")

            try:
                yield Snapshot(
                    vendor="postgresql",
                    details={
                        "server_version": str(server_version),
                        "content": "pg_dump custom format",
                        "dump_tool": client_line,
                        "dump_tool_major": str(client_major),
                    },
                    tables=tables,
                    records=records,
                    migrations=migrations,
                    chunks=iter(partial(process.stdout.read, CHUNK), b""),
                    finish=finish,
                )
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
                process.stdout.close()
    finally:
        session.close()


def inspect_target() -> Target:
    """The database of DATABASE_URL as a restore finds it."""
    tables = sorted(connection.introspection.table_names())
    quote = connection.ops.quote_name
    candidates = sorted(set(tables) & set(_model_tables().values()) - BOOKKEEPING_TABLES)
    with_rows = []
    with connection.cursor() as cursor:
        for table in candidates:
            cursor.execute(f"SELECT 1 FROM {quote(table)} LIMIT 1")  # noqa: S608 - model metadata
            if cursor.fetchone() is not None:
                with_rows.append(table)
    if connection.vendor == "sqlite":
        description = f"SQLite database {connection.settings_dict['NAME']}"
    else:
        description = f'PostgreSQL database "{connection.settings_dict["NAME"]}"'
    return Target(connection.vendor, description, tables, with_rows)


def count_rows(tables: Iterable[str]) -> dict[str, int]:
    quote = connection.ops.quote_name
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608 - from the manifest, quoted
            counts[table] = int(cursor.fetchone()[0])
    return counts


def encrypted_samples() -> list[tuple[str, str]]:
    """One stored value of each encrypted column that holds any, with its context
    (``table.column``, what the ciphertext is bound to)."""
    present = set(connection.introspection.table_names())
    quote = connection.ops.quote_name
    samples = []
    with connection.cursor() as cursor:
        for model, field in encrypted_columns():
            table, column = model._meta.db_table, str(field.column)
            if table not in present:
                continue
            cursor.execute(
                f"SELECT {quote(column)} FROM {quote(table)} "  # noqa: S608 - model metadata
                f"WHERE {quote(column)} IS NOT NULL LIMIT 1"
            )
            row = cursor.fetchone()
            if row is not None:
                samples.append((f"{table}.{column}", str(row[0])))
    return samples


def check_postgres_restore_client(dump_major: int) -> None:
    _path, major, _line = _postgres_client("pg_restore")
    if major < dump_major:
        raise BackupError(
            f"the dump was made by pg_dump {dump_major} and pg_restore here is {major}: install "
            f"postgresql-client-{dump_major} or newer and put its bin folder first on PATH"
        )


def restore_sqlite(feed: Feed) -> None:
    """Decrypt the dump beside the target file, check it, then copy it in with the backup API
    (one write transaction: other connections see the old database or the restored one)."""
    if _in_memory():
        raise BackupError("a restore needs a database file, not an in-memory database")
    target = Path(str(connection.settings_dict["NAME"])).resolve()
    if not target.parent.is_dir():
        raise BackupError(f"the folder of the database file does not exist: {target.parent}")
    handle, name = tempfile.mkstemp(
        prefix=".routecare-restore-", suffix=".sqlite3", dir=target.parent
    )
    staged = Path(name)
    try:
        inflate = zlib.decompressobj(wbits=31)
        with os.fdopen(handle, "wb") as out:
            try:
                feed(lambda data: out.write(inflate.decompress(data)))
                out.write(inflate.flush())
            except zlib.error as error:
                raise DamagedArchiveError(
                    "the database in the archive is not a gzip stream"
                ) from error
        if not inflate.eof or inflate.unused_data:
            raise DamagedArchiveError("the database in the archive is incomplete")
        source = sqlite3.connect(staged)
        try:
            if source.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise DamagedArchiveError("the database in the archive fails SQLite's quick_check")
            connection.close()
            destination = sqlite3.connect(target, timeout=60)
            try:
                source.backup(destination)
            finally:
                destination.close()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"SQLite could not restore the database: {error}") from error
        finally:
            source.close()
    finally:
        _remove_sqlite_files(staged)


def restore_postgresql(feed: Feed, *, clean: bool) -> None:
    """Stream the dump into pg_restore, which loads it in one transaction. ``clean`` drops the
    objects of the dump that already exist (a migrated, empty database; ``--replace``) in that
    same transaction."""
    pg_restore, _major, _line = _postgres_client("pg_restore")
    arguments = [
        pg_restore,
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        f"--dbname={connection.settings_dict['NAME']}",
    ]
    if clean:
        arguments += ["--clean", "--if-exists"]
    connection.close()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - pg_restore with arguments we build
            arguments,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=_postgres_environment(),
        )
        assert process.stdin is not None  # noqa: S101 - stdin=PIPE
        try:
            feed(process.stdin.write)
            process.stdin.close()
        except BrokenPipeError:
            pass  # pg_restore stopped reading: its exit status and message say why
        except BaseException:
            # Stopped before the end of its input, pg_restore never commits: nothing changes.
            process.kill()
            process.wait()
            raise
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
        if process.wait() != 0:
            raise BackupError(f"pg_restore failed and changed nothing: {_first_error(errors)}")
