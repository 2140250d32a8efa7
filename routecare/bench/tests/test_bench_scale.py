"""The growth run (``make bench-scale``, bench.scale) on tiny numbers, on real PostgreSQL.
Timings are never asserted: only that every figure and target is there, and that the index
check finds the sequential scans it is for."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from io import StringIO
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from routecare.bench.scale import (
    SMALL_TABLE_ROWS,
    TARGETS,
    explain_statements,
    grow_by_copies,
    measure_round,
    size_label,
    size_url,
)
from routecare.people import shortcode
from routecare.people.models import Consent, Encounter, EncounterService, Person

SERVER = "host=127.0.0.1 port=5432 user=root"
PROBE = 'SELECT 1 AS "a" FROM "people_consent" WHERE "people_consent"."person_id" {} %s LIMIT 1'


def _postgres_missing(reason: str) -> None:
    if os.environ.get("ROUTECARE_REQUIRE_POSTGRES"):
        pytest.fail(f"ROUTECARE_REQUIRE_POSTGRES is set but {reason}")
    pytest.skip(reason)


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    # The demo creates dozens of users; Argon2 would make this test needlessly slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def scratch() -> Iterator[psycopg.Connection[Any]]:
    """A database of this test's own on the machine's PostgreSQL, dropped afterwards."""
    name = f"routecare_bench_scale_test_{os.getpid()}"
    try:
        admin = psycopg.connect(SERVER, dbname="template1", connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as exc:
        _postgres_missing(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc}")
    with admin:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            # Client-side binding, as Django's PostgreSQL backend sends statements.
            with psycopg.connect(
                SERVER, dbname=name, autocommit=True, cursor_factory=psycopg.ClientCursor
            ) as db:
                yield db
        finally:
            admin.execute(drop)


def _query(db: psycopg.Connection[Any]) -> Any:
    def query(statement: str, params: Sequence[Any] | None) -> Any:
        cursor = db.execute(statement, params)
        row = cursor.fetchone() if cursor.description else None
        return row[0] if row else None

    return query


def test_the_index_check_finds_a_sequential_scan_where_an_index_is_missing(
    scratch: psycopg.Connection[Any],
) -> None:
    # A consents table without the index on person_id that RouteCare's has.
    scratch.execute("CREATE TABLE people_consent (id serial PRIMARY KEY, person_id integer)")
    scratch.execute("INSERT INTO people_consent (person_id) SELECT n FROM generate_series(1, 50) n")
    scratch.execute("ANALYZE people_consent")
    query = _query(scratch)
    statement = PROBE.format("=")

    missing = explain_statements(query, [(statement, [7])])

    assert missing["watched_seq_scans"] == [
        {"table": "people_consent", "why": "no usable index", "statement": statement}
    ]
    assert missing["statements"][0]["seq_scans_without_index"] == ["people_consent"]
    # Not a table that grows with people: listed in the plan, not counted.
    assert (
        explain_statements(query, [(statement, [7])], watched=frozenset())["watched_seq_scans"]
        == []
    )

    scratch.execute("CREATE INDEX people_consent_person ON people_consent (person_id)")
    indexed = explain_statements(query, [(statement, [7])])

    assert indexed["watched_seq_scans"] == []
    assert indexed["statements"][0]["seq_scans_without_index"] == []


def test_the_index_check_counts_a_scan_the_planner_chooses_over_a_large_table(
    scratch: psycopg.Connection[Any],
) -> None:
    scratch.execute("CREATE TABLE people_consent (id serial PRIMARY KEY, person_id integer)")
    scratch.execute("CREATE INDEX people_consent_person ON people_consent (person_id)")
    scratch.execute(
        "INSERT INTO people_consent (person_id) SELECT n FROM generate_series(1, %s) n",
        [SMALL_TABLE_ROWS * 2],
    )
    scratch.execute("ANALYZE people_consent")
    # Every row matches: the planner reads the table whole although an index could serve.
    statement = PROBE.format(">")

    found = explain_statements(_query(scratch), [(statement, [0])])

    assert [scan["table"] for scan in found["watched_seq_scans"]] == ["people_consent"]
    assert found["watched_seq_scans"][0]["why"].startswith("chosen by the planner")
    # Statements that only change rows are explained, never run; BEGIN and the like skipped.
    found = explain_statements(
        _query(scratch),
        [("SAVEPOINT x", None), ('DELETE FROM "people_consent" WHERE "id" = %s', [1])],
    )
    assert [entry["nodes"] for entry in found["statements"]] == [["Index Scan", "ModifyTable"]]
    assert _query(scratch)("SELECT count(*) FROM people_consent", None) == SMALL_TABLE_ROWS * 2


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_passwords")
def test_the_growth_run_reports_every_figure_and_its_targets_and_grows_by_copies() -> None:
    if connection.vendor != "postgresql":
        # `make test` runs its PostgreSQL pass too (CI requires it): this test runs there.
        pytest.skip("the growth run is PostgreSQL's: it runs in the PostgreSQL pass")
    out = StringIO()
    call_command(
        "bench_scale",
        "--in-place",
        "--scale-sizes=20,40",
        "--lookups=4",
        "--writes=4",
        "--rounds=2",
        "--warmup=1",
        stdout=out,
        stderr=StringIO(),
    )
    report = json.loads(out.getvalue())

    assert report["sizes"] == [20, 40]
    assert report["targets"] == TARGETS
    assert report["targets"]["lookup_growth_ratio_max"] == 1.2
    assert report["targets"]["write_growth_ratio_max"] == 1.2
    assert isinstance(report["meets_targets"], bool)
    assert set(report["lookup_p95_ms"]) == set(report["write_p95_ms"]) == {"20", "40"}
    for label, figures in report["at"].items():
        assert figures["people"] >= int(label)
        assert figures["lookups"] == figures["writes"] == 4
        assert figures["lookup_p95_ms"] == report["lookup_p95_ms"][label] > 0
        assert figures["write_p95_ms"] == report["write_p95_ms"][label] > 0
        assert len(figures["rounds"]) == 2
        # Every statement of a lookup and a write explained: the person read by its code,
        # the consent checked by an index, the encounter and its audit event inserted.
        explained = figures["explain"]
        assert set(explained) == {"lookup", "write", "first_request_of_a_token"}
        lookup_sql = " ".join(entry["statement"] for entry in explained["lookup"]["statements"])
        write_sql = " ".join(entry["statement"] for entry in explained["write"]["statements"])
        assert '"people_person"' in lookup_sql
        assert '"audit_auditevent"' in lookup_sql
        assert 'INSERT INTO "people_encounter"' in write_sql
        assert '"people_consent"' in write_sql
        first_sql = " ".join(
            e["statement"] for e in explained["first_request_of_a_token"]["statements"]
        )
        assert '"accounts_apitoken"' in first_sql
        for request in explained.values():
            for entry in request["statements"]:
                assert entry["seq_scans_without_index"] == [], entry["statement"]
    ratio = report["lookup_p95_ms"]["40"] / report["lookup_p95_ms"]["20"]
    assert report["lookup_growth_ratio"] == round(ratio, 2)
    assert report["write_growth_ratio"] > 0
    assert report["cpu_calibration_ratio"] > 0
    assert report["seq_scans"] == []

    # A larger size's database grows by copies of its people (the demo is loaded once here).
    before = {
        model: model.objects.count() for model in (Person, Encounter, EncounterService, Consent)
    }
    known = set(Person.objects.values_list("pk", flat=True))

    grow_by_copies(25)

    copies = Person.objects.exclude(pk__in=known)
    assert copies.count() == 25
    assert Person.objects.count() == before[Person] + 25
    assert Encounter.objects.count() > before[Encounter]
    assert EncounterService.objects.count() > before[EncounterService]
    assert Consent.objects.filter(person__in=copies).count() >= 25
    codes = list(copies.values_list("short_code", flat=True))
    assert len(set(codes)) == 25
    assert all(shortcode.is_valid(shortcode.normalise(code) or "") for code in codes)
    copy = copies.filter(vulnerabilities__isnull=False).first()
    assert copy is not None
    assert isinstance(copy.vulnerabilities, list)  # the ciphertext decrypts in its new row
    # Looked up and written to through the API as any person (bench.measure's requests).
    copied = measure_round(lookups=3, writes=3, warmup=0, seed=2)
    assert len(copied["durations_ms"]["lookup"]) == 3


def test_each_size_has_its_database() -> None:
    assert [size_label(n) for n in (100_000, 1_000_000, 2000, 2500)] == ["100k", "1m", "2k", "2500"]
    base = "postgres://root@127.0.0.1:5432/routecare_bench_scale"
    assert size_url(base, 100_000) == base + "_100k"
    assert size_url(base + "?sslmode=require", 1_000_000) == base + "_1m?sslmode=require"


@pytest.mark.parametrize("sizes", ["100000", "1000000,100000", "0,10", "ten,20", "5,5"])
def test_bad_sizes_are_refused_with_a_clear_message(sizes: str) -> None:
    with pytest.raises(CommandError, match=r"smallest first|numbers of people"):
        call_command("bench_scale", f"--scale-sizes={sizes}", stdout=StringIO())
