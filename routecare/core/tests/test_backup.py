"""`routecare backup` and `routecare restore`: the round trip into a fresh database (a new SQLite
file, or a new PostgreSQL database dropped afterwards), and what they refuse.

The restore runs as a separate `routecare` process with its own DATABASE_URL and keys, as on a
fresh instance. Tests that back up are transactional: pg_dump and the SQLite backup API see
committed data only. Refusals that come before any database access use none.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tarfile
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from routecare.audit.models import AuditEvent
from routecare.cards import actions as card_actions
from routecare.cards.keys import ensure_keys
from routecare.conftest import Society, register
from routecare.core.backup import archive
from routecare.core.backup.actions import write_archive
from routecare.core.backup.databases import count_rows
from routecare.core.crypto import parse_keys
from routecare.people import actions

PASSPHRASE = "correct horse battery staple"
# The fresh instance starts with keys of its own: only those the restore writes read the data.
FRESH_FIELD_KEYS = "fresh:" + b64encode(secrets.token_bytes(32)).decode()


def _model_tables() -> list[str]:
    from django.apps import apps

    present = set(connection.introspection.table_names())
    return sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.db_table in present
        }
    )


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """The DATABASE_URL of a database that does not exist yet (SQLite) or is empty."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    name = f"routecare_restore_{secrets.token_hex(4)}"
    admin: Any = connection.get_new_connection(connection.get_connection_params())
    admin.autocommit = True
    admin.execute(f'CREATE DATABASE "{name}"')
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    try:
        yield f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the fresh database directly, without Django."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        if not Path(path).exists():
            return []
        with sqlite3.connect(path) as reader:
            return reader.execute(sql.replace("%s", "?"), params).fetchall()
    with psycopg.connect(database_url) as reader:
        return reader.execute(sql, params).fetchall()


def _tables(database_url: str) -> set[str]:
    if database_url.startswith("sqlite"):
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return {row[0] for row in _query(database_url, sql)}


def _routecare(
    *args: str, database_url: str, local_dir: Path, passphrase: str = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ROUTECARE_", "SECRET_KEY", "DATABASE_URL"))
    }
    environment.update(
        DATABASE_URL=database_url,
        ROUTECARE_FIELD_KEYS=FRESH_FIELD_KEYS,
        SECRET_KEY="the fresh instance's own secret key",
        ROUTECARE_BACKUP_PASSPHRASE=passphrase,
        ROUTECARE_LOCAL_DIR=str(local_dir),
    )
    script = Path(sys.executable).with_name("routecare")
    return subprocess.run(  # noqa: S603 - our own console script
        [str(script), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _backup(output: Path, *extra: str) -> Path:
    call_command(
        "backup", "--output", str(output), *extra, stdout=io.StringIO(), stderr=io.StringIO()
    )
    (path,) = output.glob("routecare-backup-*.tar")
    return path


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ROUTECARE_BACKUP_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE


@pytest.fixture(scope="module")
def any_archive(
    tmp_path_factory: pytest.TempPathFactory,
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
) -> Path:
    """An archive of the test database as it is (the refusals do not need its content)."""
    path = tmp_path_factory.mktemp("archive") / "routecare-backup-20260101T000000Z.tar"
    with django_db_blocker.unblock():
        write_archive(path, PASSPHRASE, timezone.now())
    return path


def _people(own: Society) -> list[str]:
    """People recorded as staff record them: health summaries, encounters, a care card."""
    ensure_keys(own.society.network)
    codes = []
    for number, allergy in enumerate(["penicillin", "sulfa drugs", "latex"]):
        person = register(
            own, languages=["es"], consents=["care", "share-network"], birth_year=1990 + number
        )
        actions.record_encounter(
            own.actor(),
            person,
            services=[("first-aid", 1), ("water", 2)],
            notes="blisters on both feet",
            follow_up=actions.FollowUpInput("re-check dressing in 48 h"),
        )
        actions.update_health_summary(own.actor(), person, allergies=[allergy])
        codes.append(person.short_code)
    card_actions.issue_card(own.actor(), register(own, consents=["care", "share-network"]))
    return codes


@pytest.mark.django_db(transaction=True)
def test_round_trip_into_a_fresh_database(
    own: Society, passphrase: str, tmp_path: Path, fresh_database: str
) -> None:
    codes = _people(own)
    tables = _model_tables()
    before = count_rows(tables)
    assert before["people_healthsummary"] == 3
    assert before["cards_card"] == 1

    path = _backup(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert AuditEvent.objects.filter(action="export", object_type="backup").count() == 1
    with tarfile.open(path) as tar:
        assert tar.getnames() == [
            "routecare-backup.json",
            "identity.age",
            "database.age",
            "keys.age",
            "manifest.age",
        ]

    keys_out = tmp_path / "restored-keys"
    restored = _routecare(
        "restore", str(path), "--keys-out", str(keys_out),
        database_url=fresh_database, local_dir=tmp_path,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert "ROUTECARE_FIELD_KEYS_FILE=" in restored.stdout
    assert "decrypts with the archive's field keys" in restored.stdout
    # Keys go to files only: never to the output unless asked.
    assert settings.ROUTECARE_FIELD_KEYS not in restored.stdout + restored.stderr

    quote_name = connection.ops.quote_name
    after = {
        table: _query(fresh_database, f"SELECT count(*) FROM {quote_name(table)}")[0][0]  # noqa: S608
        for table in tables
    }
    # The restore writes one audit event of its own into the restored database.
    assert after.pop("audit_auditevent") == before.pop("audit_auditevent") + 1
    assert after == before

    field_keys = keys_out / "field_keys"
    assert field_keys.stat().st_mode & 0o777 == 0o600
    assert (keys_out / "secret_key").read_text().strip() == settings.SECRET_KEY
    keyring = parse_keys(field_keys.read_text().strip())
    ((stored,),) = _query(
        fresh_database,
        "SELECT h.allergies FROM people_healthsummary h "
        "JOIN people_person p ON p.id = h.person_id WHERE p.short_code = %s",
        (codes[1],),
    )
    assert json.loads(keyring.decrypt(stored, "people_healthsummary.allergies")) == ["sulfa drugs"]
    assert _query(
        fresh_database,
        "SELECT action, object_type, actor_username FROM audit_auditevent WHERE via = 'command' "
        "AND object_type = 'database'",
    ) == [("change", "database", "(command line)")]


def test_wrong_passphrase_is_refused_and_changes_nothing(
    own_person: object, any_archive: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ROUTECARE_BACKUP_PASSPHRASE", "not the passphrase at all")
    people = count_rows(["people_person"])
    with pytest.raises(CommandError, match="wrong passphrase"):
        call_command(
            "restore", str(any_archive), "--replace", "--keys-out", str(tmp_path / "keys"),
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert count_rows(["people_person"]) == people
    assert not (tmp_path / "keys").exists()


@pytest.mark.django_db
def test_tampered_archive_is_refused_and_changes_nothing(
    any_archive: Path, tmp_path: Path, fresh_database: str
) -> None:
    with tarfile.open(any_archive) as tar:
        member = tar.getmember("database.age")
    tampered = tmp_path / any_archive.name
    content = bytearray(any_archive.read_bytes())
    content[member.offset_data + member.size // 2] ^= 0x01
    tampered.write_bytes(bytes(content))

    result = _routecare(
        "restore", str(tampered), "--keys-out", str(tmp_path / "keys"),
        database_url=fresh_database, local_dir=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "database.age does not authenticate" in result.stderr
    assert "Traceback" not in result.stderr
    assert not {table for table in _tables(fresh_database) if not table.startswith("sqlite_")}
    assert not (tmp_path / "keys").exists()


def test_non_empty_database_is_refused_without_replace(
    own_person: object, any_archive: Path, passphrase: str
) -> None:
    people = count_rows(["people_person"])
    with pytest.raises(CommandError, match=r"already holds data .*--replace"):
        call_command("restore", str(any_archive), stdout=io.StringIO(), stderr=io.StringIO())
    assert count_rows(["people_person"]) == people


def test_check_reports_a_cut_short_archive(
    any_archive: Path, passphrase: str, tmp_path: Path
) -> None:
    cut = tmp_path / any_archive.name
    cut.write_bytes(any_archive.read_bytes()[: any_archive.stat().st_size // 2])
    with pytest.raises(CommandError, match=r"cut short|incomplete"):
        call_command("restore", str(cut), "--check", stdout=io.StringIO(), stderr=io.StringIO())


def test_check_opens_a_whole_archive(any_archive: Path, passphrase: str) -> None:
    out = io.StringIO()
    call_command("restore", str(any_archive), "--check", stdout=out, stderr=io.StringIO())
    assert "The archive is whole" in out.getvalue()


def test_a_file_that_is_not_an_archive_is_refused(passphrase: str, tmp_path: Path) -> None:
    not_ours = tmp_path / "notes.tar"
    with tarfile.open(not_ours, "w") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    (tmp_path / "photo.jpg").write_bytes(secrets.token_bytes(2000))
    for path in (not_ours, tmp_path / "photo.jpg"):
        with pytest.raises(CommandError, match="is not a RouteCare backup archive"):
            call_command("restore", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_an_archive_of_a_newer_format_is_refused(passphrase: str, tmp_path: Path) -> None:
    newer = tmp_path / "routecare-backup-20300101T000000Z.tar"
    with tarfile.open(newer, "w") as tar:
        header = json.dumps({"format": "routecare-backup", "version": 2}).encode()
        info = tarfile.TarInfo("routecare-backup.json")
        info.size = len(header)
        tar.addfile(info, io.BytesIO(header))
    with pytest.raises(CommandError, match="format 2 archive, made by a newer RouteCare"):
        call_command("restore", str(newer), stdout=io.StringIO(), stderr=io.StringIO())


def test_backup_refuses_a_short_passphrase(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ROUTECARE_BACKUP_PASSPHRASE", "rosebud")
    with pytest.raises(CommandError, match="passphrase is too short"):
        _backup(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_backup_without_a_passphrase_says_how_to_give_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ROUTECARE_BACKUP_PASSPHRASE", raising=False)
    monkeypatch.delenv("ROUTECARE_BACKUP_PASSPHRASE_FILE", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO())
    with pytest.raises(CommandError, match="no passphrase: give --passphrase-file"):
        _backup(tmp_path)


@pytest.mark.django_db(transaction=True)
def test_backup_without_keys_leaves_them_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text(PASSPHRASE + "\n")
    monkeypatch.delenv("ROUTECARE_BACKUP_PASSPHRASE", raising=False)
    output = tmp_path / "out"
    output.mkdir()
    path = _backup(output, "--without-keys", "--passphrase-file", str(passphrase_file))
    with tarfile.open(path) as tar:
        assert "keys.age" not in tar.getnames()
    with pytest.raises(CommandError, match="made --without-keys"):
        call_command(
            "restore", str(path), "--keys-only", "--passphrase-file", str(passphrase_file),
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip


def test_keys_are_never_written_over_existing_files(
    any_archive: Path, passphrase: str, tmp_path: Path
) -> None:
    (tmp_path / "field_keys").write_text("k1:existing")
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "restore", str(any_archive), "--keys-only", "--keys-out", str(tmp_path),
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert (tmp_path / "field_keys").read_text() == "k1:existing"


def test_streamed_member_header_holds_any_size_in_one_block() -> None:
    for size in (0, 1, 8 * 1024**3, 10 * 1024**4):
        assert len(archive._header("database.age", size, 0)) == tarfile.BLOCKSIZE


def test_chunk_reader_never_returns_more_than_asked() -> None:
    reader = archive.ChunkReader(iter([b"a" * 10, b"b" * 3, b"c" * 20]))
    parts = [reader.read(7) for _ in range(6)]
    assert [len(part) for part in parts] == [7, 7, 7, 7, 5, 0]
    assert b"".join(parts) == b"a" * 10 + b"b" * 3 + b"c" * 20
    assert reader.size == 33
