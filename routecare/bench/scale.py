"""Growth (issue 22, item 6): audited person lookups and encounter writes at 100,000 and at
1,000,000 people in the same run, and whether the statements behind them use indexes.

``make bench-scale`` (``routecare bench_scale``) keeps one PostgreSQL database per size
(``<base>_100k``, ``<base>_1m``), built once and reused (``--fresh`` rebuilds). The smallest
size is synthesised as ``make bench`` synthesises its people (``demo.synth.make_people``). A
larger size's database starts as a copy of the next smaller one (``CREATE DATABASE …
TEMPLATE``: a file copy) and is topped up with copies of its people made in PostgreSQL
(``grow_by_copies``: new ids and short codes, the same spread of societies, visits and
services), and both databases stay as they are between runs. One database grown from 100k to
1M between the two measurements would save the copy, but then the next run could not measure
at 100k again without building it anew.

Each step runs in a process of its own whose ``DATABASE_URL`` points at that size's database,
as ``make bench`` does (``bench.orchestrate``): first a build per size (migrate, demo, top up,
``VACUUM (ANALYZE)``), then the measurement in rounds that alternate the sizes (small, large,
large, small, …): a virtual machine's CPU drifts by tens of percent within minutes, and taking
turns exposes both sizes to the same drift. Each round times lookups and writes request by
request, in turn, as ``make bench`` does (``bench.measure``: the same client, token, requests
and checks); the parent pools the rounds' durations per size and summarises them.

The index check: in the first round at each size, the SQL statements one lookup and one write
send are captured and each is explained (``EXPLAIN (FORMAT JSON)``, never executed) twice: as
the planner chooses with the database's statistics, and with sequential scans disabled, where a
``Seq Scan`` left means no index can serve the statement at all.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import dj_database_url
import django
import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Model
from django.db.models.fields import AutoFieldMixin
from django.http import HttpResponseBase
from django.test import Client
from psycopg import sql

from routecare.accounts.actions import create_api_token
from routecare.bench.indicators import NETWORK as INDICATOR_NETWORK
from routecare.bench.measure import (
    ENCOUNTER_BODY,
    LOOKUP_URL,
    Phase,
    _LogStream,
    _picker,
    _refresh_statistics,
    _target,
    _time_interleaved,
    _warm_up,
    cpu_calibration_ms,
    database_label,
    prepare,
)
from routecare.bench.orchestrate import _without_password, server_connection
from routecare.bench.stats import ratio, summarise
from routecare.demo.synth import make_people
from routecare.orgs.models import NationalSociety
from routecare.people import shortcode
from routecare.people.models import (
    Consent,
    Encounter,
    EncounterService,
    FollowUp,
    HealthSummary,
    Person,
    ReservedShortCode,
)

Log = Callable[[str], None]
# A query function: runs one statement with its parameters and returns the first column of its
# first row (None when it returns no rows).
Query = Callable[[str, Sequence[Any] | None], Any]

DEFAULT_SIZES = (100_000, 1_000_000)
DEFAULT_POSTGRES_URL = "postgres://root@127.0.0.1:5432/routecare_bench_scale"
TARGETS: dict[str, Any] = {
    "database": "postgresql",
    # p95 at the largest size over p95 at the smallest (1,000,000 over 100,000 people).
    "lookup_growth_ratio_max": 1.2,
    "write_growth_ratio_max": 1.2,
    # Sequential scans of the growing tables in the statements of a lookup or a write.
    "seq_scans_max": 0,
}
# The tables that grow with people: people, encounters and their service lines, consents,
# the audit trail, and API tokens (one per device).
WATCHED_TABLES = frozenset(
    {
        "people_person",
        "people_encounter",
        "people_encounterservice",
        "people_consent",
        "audit_auditevent",
        "accounts_apitoken",
    }
)
# A planner may rightly read a small table whole, index or not; a scan it chooses counts from
# this many rows (its statistics' estimate). With sequential scans disabled every scan counts.
SMALL_TABLE_ROWS = 10_000
EXPLAINABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
# From this many people, a database is grown by copying its people in PostgreSQL
# (``grow_by_copies``) rather than synthesising new ones in Python.
COPY_FROM_PEOPLE = 10_000
# Building a million people on a loaded 2-core machine takes long; this only stops a hung child.
BUILD_TIMEOUT_SECONDS = 8 * 3600
MEASURE_TIMEOUT_SECONDS = 3600


def _quiet(message: str) -> None:
    """The default progress sink: say nothing."""


@dataclass(frozen=True)
class ScaleOptions:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    lookups: int = 500
    writes: int = 500
    warmup: int = 20
    rounds: int = 4
    seed: int = 7
    fresh: bool = False


def size_label(people: int) -> str:
    """100000 → 100k, 1000000 → 1m, 2500 → 2500."""
    if people % 1_000_000 == 0:
        return f"{people // 1_000_000}m"
    if people % 1000 == 0:
        return f"{people // 1000}k"
    return str(people)


def size_url(base_url: str, people: int) -> str:
    """The database of one size: ``_<label>`` appended to the base URL's database name."""
    params = dj_database_url.parse(base_url)
    name = str(params.get("NAME") or "")
    head, sep, tail = base_url.partition("?")
    if not name or not head.endswith("/" + name):
        raise ValueError(f"no database name at the end of {_without_password(base_url)}")
    return f"{head}_{size_label(people)}{sep}{tail}"


def default_postgres_url() -> str:
    return os.environ.get("BENCH_SCALE_POSTGRES_URL", DEFAULT_POSTGRES_URL)


# -- one size, in the child process --------------------------------------------------------


def build(people: int, seed: int = 7, log: Log = _quiet) -> dict[str, Any]:
    """Migrate the current database and top it up to ``people`` (``bench.measure.prepare``:
    the demo, bulk-inserted synthetic people, ``VACUUM (ANALYZE)``)."""
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0, stdout=_LogStream(log))
    migrate_seconds = round(time.perf_counter() - started, 2)
    copy_seconds, copied = None, 0
    here = Person.objects.exclude(national_society__network__slug=INDICATOR_NETWORK)
    existing = here.count()
    if connection.vendor == "postgresql" and existing >= COPY_FROM_PEOPLE and people > existing:
        # A larger size's database starts as a copy of the smaller one's: grow it by copies.
        copied = people - existing
        copy_seconds = round(grow_by_copies(copied, log=log), 2)
    dataset = prepare(people, seed=seed, log=log)
    return {
        "database": database_label(),
        "people": dataset.people,
        "encounters": dataset.encounters,
        "people_added": dataset.people_added,
        "people_copied": copied,
        "copy_seconds": copy_seconds,
        "migrate_seconds": migrate_seconds,
        "demo_seconds": dataset.demo_seconds,
        "synth_seconds": dataset.synth_seconds,
        "analyze_seconds": dataset.analyze_seconds,
    }


def grow_by_copies(missing: int, log: Log = _quiet) -> float:
    """Add ``missing`` people on PostgreSQL as copies of the people already there (all but the
    indicator bench's), each with a new id and a new valid short code, with copies of their
    encounters and service lines, consents, health summaries and follow-ups; seconds taken.

    ``demo.synth.make_people`` builds each person in Python and reads the database once per
    short code: about an hour per 100,000 people on a loaded 2-core machine. Here PostgreSQL
    copies the rows itself (``INSERT … SELECT``), and Python only draws the codes, sent with
    ``COPY``. The copies have the synthetic people's spread of societies, points, visits and
    services, and their encrypted fields stay readable: a ciphertext is bound to its table and
    column, not to its row (``core.crypto``)."""
    started = time.perf_counter()
    societies = list(
        NationalSociety.objects.exclude(network__slug=INDICATOR_NETWORK).values_list(
            "pk", flat=True
        )
    )
    taken = set(Person.objects.values_list("short_code", flat=True))
    codes: list[str] = []
    while len(codes) < missing:
        code = shortcode.draw()
        if code not in taken:
            taken.add(code)
            codes.append(code)
    reserved = set(ReservedShortCode.objects.values_list("code", flat=True))
    if reserved & set(codes):
        raise RuntimeError("a drawn short code is reserved for a field node: run again")
    log(f"copying {missing} people in PostgreSQL")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE scale_source ON COMMIT DROP AS SELECT id AS src, "
            "row_number() OVER (ORDER BY id) - 1 AS k FROM people_person "
            "WHERE national_society_id = ANY(%s)",
            [societies],
        )
        cursor.execute("SELECT count(*) FROM scale_source")
        row = cursor.fetchone()
        sources = int(row[0]) if row else 0
        if not sources:
            raise RuntimeError("no people to copy: build the smaller size first")
        cursor.execute("CREATE TEMP TABLE scale_code (n bigint, code text) ON COMMIT DROP")
        with cursor.cursor.copy("COPY scale_code (n, code) FROM STDIN") as copy:
            for n, code in enumerate(codes):
                copy.write_row((n, code))
        cursor.execute(
            "CREATE TEMP TABLE scale_person ON COMMIT DROP AS SELECT c.code, s.src, "
            "gen_random_uuid() AS id FROM scale_code c JOIN scale_source s ON s.k = c.n %% %s",
            [sources],
        )
        _copy_rows(cursor, Person, "scale_person m JOIN {table} t ON t.id = m.src",
                   {"id": "m.id", "short_code": "m.code"})  # fmt: skip
        cursor.execute(
            "CREATE TEMP TABLE scale_encounter ON COMMIT DROP AS SELECT e.id AS src, "
            "gen_random_uuid() AS id, m.id AS person FROM scale_person m "
            "JOIN people_encounter e ON e.person_id = m.src"
        )
        _copy_rows(cursor, Encounter, "scale_encounter m JOIN {table} t ON t.id = m.src",
                   {"id": "m.id", "person_id": "m.person"})  # fmt: skip
        _copy_rows(cursor, EncounterService,
                   "scale_encounter m JOIN {table} t ON t.encounter_id = m.src",
                   {"encounter_id": "m.id"})  # fmt: skip
        for model in (Consent, HealthSummary, FollowUp):
            _copy_rows(cursor, model, "scale_person m JOIN {table} t ON t.person_id = m.src",
                       {"person_id": "m.id"})  # fmt: skip
    return time.perf_counter() - started


def _copy_rows(cursor: Any, model: type[Model], source: str, values: dict[str, str]) -> None:
    """``INSERT INTO`` the model's table ``SELECT`` its columns from ``source`` (rows ``t``),
    with ``values`` in place of some; a new UUID as primary key, or the table's own serial."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk
    columns, selected = [], []
    for field in model._meta.concrete_fields:
        column = str(field.column)
        if column in values:
            value = values[column]
        elif field is pk and isinstance(field, AutoFieldMixin):
            continue
        elif field is pk:
            value = "gen_random_uuid()"
        else:
            value = "t." + connection.ops.quote_name(column)
        columns.append(connection.ops.quote_name(column))
        selected.append(value)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names from the models
        f"SELECT {', '.join(selected)} FROM {source.format(table=table)}"
    )


def grow(people: int, seed: int = 7, log: Log = _quiet) -> dict[str, Any]:
    """Top the current database up to ``people`` as ``build`` does, but without migrating and
    loading the demo again: what ``run_in_place`` does after its first size."""
    here = Person.objects.exclude(national_society__network__slug=INDICATOR_NETWORK)
    existing = here.count()
    missing = max(0, people - existing)
    started = time.perf_counter()
    if missing:
        log(f"adding {missing} synthetic people to the {existing} present")
        make_people(missing, seed=seed + existing)
    synth_seconds = round(time.perf_counter() - started, 2)
    return {
        "database": database_label(),
        "people": here.count(),
        "encounters": Encounter.objects.filter(person__in=here).count(),
        "people_added": missing,
        "synth_seconds": synth_seconds,
        "analyze_seconds": round(_refresh_statistics(), 2),
    }


def measure_round(
    lookups: int,
    writes: int,
    warmup: int = 20,
    seed: int = 7,
    explain: bool = False,
    log: Log = _quiet,
) -> dict[str, Any]:
    """Lookups and writes, timed request by request in turn, as ``make bench`` times them;
    their raw durations (ms), to be pooled with other rounds'. With ``explain``, the plans of
    one more lookup's and write's statements (``explain_statements``)."""
    rng = random.Random(seed)
    target = _target(rng)
    client = target.client
    code = _picker(target.codes, rng)
    person = _picker(target.person_ids, rng)

    def lookup(index: int) -> HttpResponseBase:
        return client.post(LOOKUP_URL, {"code": code(index)}, content_type="application/json")

    def write(index: int) -> HttpResponseBase:
        url = f"/api/v1/people/{person(index)}/encounters"
        return client.post(url, ENCOUNTER_BODY, content_type="application/json")

    phases = [Phase("lookup", lookup, lookups, 200), Phase("write", write, writes, 201)]
    load_before = os.getloadavg()[0]
    cpu_before = cpu_calibration_ms()
    log(f"{lookups} person lookups and {writes} encounter writes")
    _warm_up(phases, warmup)
    durations = _time_interleaved(phases)
    result: dict[str, Any] = {
        "database": database_label(),
        "people_in_society": len(target.person_ids),
        "durations_ms": {name: [round(v, 3) for v in values] for name, values in durations.items()},
        "cpu_calibration_ms": {"before": cpu_before, "after": cpu_calibration_ms()},
        "load_average_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }
    if explain:
        log("explaining the statements of a lookup and a write")
        # A token's first request also reads the token (later ones are answered from memory).
        _token, raw = create_api_token(target.user, "bench scale explain", target.point)
        first_client = Client(headers={"Authorization": f"Bearer {raw}"})

        def first_lookup(index: int) -> HttpResponseBase:
            body = {"code": code(index)}
            return first_client.post(LOOKUP_URL, body, content_type="application/json")

        result["explain"] = {
            "lookup": explain_statements(django_query, captured_statements(lookup)),
            "write": explain_statements(django_query, captured_statements(write)),
            "first_request_of_a_token": explain_statements(
                django_query, captured_statements(first_lookup)
            ),
        }
    return result


def captured_statements(send: Callable[[int], HttpResponseBase]) -> list[tuple[str, Any]]:
    """The SQL statements (with their parameters) one more request sends."""
    seen: list[tuple[str, Any]] = []

    def capture(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if many:
            # executemany: one parameter set stands for all of them (kept, not consumed).
            params = list(params)
            seen.append((sql, params[0] if params else None))
        else:
            seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        send(0)
    return seen


def django_query(statement: str, params: Sequence[Any] | None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone() if cursor.description else None
    return row[0] if row else None


# -- the index check -----------------------------------------------------------------------


def _plan_nodes(plan: dict[str, Any]) -> Iterable[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def _plan(query: Query, statement: str, params: Sequence[Any] | None) -> dict[str, Any]:
    document = query("EXPLAIN (FORMAT JSON) " + statement, params)
    if isinstance(document, str):
        document = json.loads(document)
    plan: dict[str, Any] = document[0]["Plan"]
    return plan


def _estimated_rows(query: Query, table: str) -> int:
    rows = query("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [table])
    return int(rows or 0)


def explain_statements(
    query: Query,
    statements: Sequence[tuple[str, Sequence[Any] | None]],
    watched: frozenset[str] = WATCHED_TABLES,
) -> dict[str, Any]:
    """Each statement's plan, as chosen and with sequential scans disabled (PostgreSQL); the
    sequential scans of ``watched`` tables found: any left with scans disabled (no index can
    serve the statement), and any chosen over a table of ``SMALL_TABLE_ROWS`` rows or more.
    Statements are explained, never executed; only their text is reported, not their values.
    """
    explained: list[dict[str, Any]] = []
    scans: list[dict[str, Any]] = []
    for statement, params in statements:
        if not statement.lstrip().upper().startswith(EXPLAINABLE):
            continue
        chosen = list(_plan_nodes(_plan(query, statement, params)))
        query("SET enable_seqscan = off", None)
        try:
            forced = list(_plan_nodes(_plan(query, statement, params)))
        finally:
            query("RESET enable_seqscan", None)
        entry = {
            "statement": statement if len(statement) <= 200 else statement[:200] + "…",
            "nodes": sorted({str(node["Node Type"]) for node in chosen}),
            "indexes": sorted({str(node["Index Name"]) for node in chosen if "Index Name" in node}),
            "seq_scans": sorted(
                {str(node["Relation Name"]) for node in chosen if node["Node Type"] == "Seq Scan"}
            ),
            "seq_scans_without_index": sorted(
                {str(node["Relation Name"]) for node in forced if node["Node Type"] == "Seq Scan"}
            ),
        }
        explained.append(entry)
        for table in entry["seq_scans_without_index"]:
            if table in watched:
                scans.append(
                    {"table": table, "why": "no usable index", "statement": entry["statement"]}
                )
        for table in entry["seq_scans"]:
            if table in watched and table not in entry["seq_scans_without_index"]:
                rows = _estimated_rows(query, table)
                if rows >= SMALL_TABLE_ROWS:
                    scans.append(
                        {
                            "table": table,
                            "why": f"chosen by the planner over about {rows} rows",
                            "statement": entry["statement"],
                        }
                    )
    return {"statements": explained, "watched_seq_scans": scans}


# -- the report ----------------------------------------------------------------------------


@dataclass
class SizeRun:
    """What the build and the rounds of one size gave."""

    people: int
    build: dict[str, Any]
    rounds: list[dict[str, Any]]


def size_figures(run: SizeRun) -> dict[str, Any]:
    failed = [r["failed"] for r in [run.build, *run.rounds] if "failed" in r]
    if failed:
        return {"build": run.build, "failed": failed[0]}
    lookups = [v for r in run.rounds for v in r["durations_ms"]["lookup"]]
    writes = [v for r in run.rounds for v in r["durations_ms"]["write"]]
    explained = next((r["explain"] for r in run.rounds if "explain" in r), None)
    lookup_ms, write_ms = summarise(lookups), summarise(writes)
    return {
        "people": run.build.get("people"),
        "encounters": run.build.get("encounters"),
        "people_in_society": run.rounds[0]["people_in_society"],
        "database": run.build.get("database"),
        "build": run.build,
        "lookups": len(lookups),
        "writes": len(writes),
        "person_lookup_ms": lookup_ms,
        "encounter_write_ms": write_ms,
        "lookup_p95_ms": lookup_ms["p95"],
        "write_p95_ms": write_ms["p95"],
        # The median of the rounds' calibrations, before and after: how fast the machine was.
        "cpu_calibration_ms": statistics.median(
            value for r in run.rounds for value in r["cpu_calibration_ms"].values()
        ),
        "rounds": [
            {
                "lookup_p95_ms": summarise(r["durations_ms"]["lookup"])["p95"],
                "write_p95_ms": summarise(r["durations_ms"]["write"])["p95"],
                "cpu_calibration_ms": r["cpu_calibration_ms"],
                "load_average_1m": r["load_average_1m"],
            }
            for r in run.rounds
        ],
        "explain": explained,
    }


def build_report(options: ScaleOptions, runs: Sequence[SizeRun], mode: str) -> dict[str, Any]:
    at = {size_label(run.people): size_figures(run) for run in runs}
    first, last = at[size_label(runs[0].people)], at[size_label(runs[-1].people)]
    report: dict[str, Any] = {
        "sizes": [run.people for run in runs],
        "mode": mode,
        "rounds": options.rounds,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "django": django.get_version(),
        },
        "at": at,
        "targets": TARGETS,
    }
    if "failed" in first or "failed" in last:
        return {**report, "meets_targets": False}
    scans = [
        {"request": request, **scan}
        for request, explained in (last["explain"] or {}).items()
        for scan in explained["watched_seq_scans"]
    ]
    lookup_ratio = ratio(last["lookup_p95_ms"], first["lookup_p95_ms"])
    write_ratio = ratio(last["write_p95_ms"], first["write_p95_ms"])
    return {
        **report,
        "database": last["database"],
        "lookup_p95_ms": {label: figures["lookup_p95_ms"] for label, figures in at.items()},
        "write_p95_ms": {label: figures["write_p95_ms"] for label, figures in at.items()},
        "lookup_growth_ratio": lookup_ratio,
        "write_growth_ratio": write_ratio,
        # The same ratio of the machine's speed (bench.measure.cpu_calibration_ms): far from 1,
        # the machine was slower at one size than at the other and the growth ratios say so too.
        "cpu_calibration_ratio": ratio(last["cpu_calibration_ms"], first["cpu_calibration_ms"]),
        # Of the largest size's statements.
        "seq_scans": scans,
        "meets_targets": bool(
            str(last["database"]).startswith(TARGETS["database"])
            and lookup_ratio <= TARGETS["lookup_growth_ratio_max"]
            and write_ratio <= TARGETS["write_growth_ratio_max"]
            and last["explain"] is not None
            and len(scans) <= TARGETS["seq_scans_max"]
        ),
    }


# -- the runs ------------------------------------------------------------------------------


def run_in_place(options: ScaleOptions, log: Log = _quiet) -> dict[str, Any]:
    """Every size in the current database, in this process, growing it between sizes (the
    tests' way: a test database can only grow). Rounds cannot alternate sizes here."""
    runs: list[SizeRun] = []
    for people in options.sizes:
        log(f"== {people} people (in place)")
        if runs:
            built = grow(people, seed=options.seed, log=log)
        else:
            built = build(people, seed=options.seed, log=log)
        rounds = [
            measure_round(
                _share(options.lookups, options.rounds, n),
                _share(options.writes, options.rounds, n),
                warmup=options.warmup,
                seed=options.seed + n,
                explain=n == 0,
                log=log,
            )
            for n in range(options.rounds)
        ]
        runs.append(SizeRun(people, built, rounds))
    return build_report(options, runs, mode="in place")


def _share(total: int, rounds: int, n: int) -> int:
    """Round ``n``'s part of ``total`` requests, at least one."""
    return max(1, total // rounds + (1 if n < total % rounds else 0))


def ensure_database(url: str, template_url: str | None, fresh: bool) -> str | None:
    """Create the database of a size if missing, as a copy of ``template_url``'s when given
    (nobody may be connected to it); the reason it cannot be used, or None."""
    params = dj_database_url.parse(url)
    name = str(params.get("NAME") or "")
    if "bench" not in name:
        # Dropping and copying are only for databases that are obviously the benchmark's own.
        return f"{name!r}: a bench-scale database's name must contain 'bench'"
    connect = server_connection(params)
    try:
        with psycopg.connect(
            dbname="postgres", connect_timeout=5, autocommit=True, **connect
        ) as db:
            found = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found and fresh:
                db.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                found = None
            if found:
                return None
            create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template_url is not None:
                template = str(dj_database_url.parse(template_url).get("NAME"))
                create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            db.execute(create)
    except psycopg.Error as exc:
        return f"PostgreSQL not usable at {_without_password(url)}: {exc}".strip()
    return None


def run_child(database_url: str, argv: list[str], timeout: int) -> dict[str, Any]:
    """``bench_scale --single …`` in a new process on ``database_url``; its JSON, or why it
    failed (progress goes to this process's stderr)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
    }
    # A list argv and no shell: nothing from the environment is interpreted as a command.
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "django", "bench_scale", *argv],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        timeout=timeout,
    )
    if completed.returncode != 0:
        return {"failed": f"bench_scale {argv[0]} {argv[1]} exited with {completed.returncode}"}
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if not lines:
        return {"failed": "bench_scale --single printed nothing"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_databases(options: ScaleOptions, base_url: str, log: Log = _quiet) -> dict[str, Any]:
    """A database per size, each built once (a larger one from a copy of the smaller), then
    rounds that alternate the sizes, each step in a process of its own."""
    urls = {people: size_url(base_url, people) for people in options.sizes}
    builds: dict[int, dict[str, Any]] = {}
    previous: str | None = None
    for people in options.sizes:
        url = urls[people]
        log(f"== {people} people: {_without_password(url)}")
        reason = ensure_database(url, previous, options.fresh)
        if reason is not None:
            log(f"cannot use it: {reason}")
            builds[people] = {"failed": reason}
        else:
            builds[people] = run_child(
                url,
                ["--single", "build", f"--people={people}", f"--seed={options.seed}"],
                BUILD_TIMEOUT_SECONDS,
            )
        if "failed" in builds[people]:
            # The larger sizes cannot start from a copy of this one.
            previous = None
            continue
        previous = url
    rounds: dict[int, list[dict[str, Any]]] = {people: [] for people in options.sizes}
    usable = [people for people in options.sizes if "failed" not in builds[people]]
    for n in range(options.rounds):
        order = usable if n % 2 == 0 else usable[::-1]
        for people in order:
            log(f"== round {n + 1} of {options.rounds}: {people} people")
            argv = [
                "--single",
                "measure",
                f"--lookups={_share(options.lookups, options.rounds, n)}",
                f"--writes={_share(options.writes, options.rounds, n)}",
                f"--warmup={options.warmup}",
                f"--seed={options.seed + n}",
                *(["--explain"] if n == 0 else []),
            ]
            rounds[people].append(run_child(urls[people], argv, MEASURE_TIMEOUT_SECONDS))
    runs = [
        SizeRun(people, builds[people], rounds[people] or [{"failed": "not measured"}])
        for people in options.sizes
    ]
    return build_report(options, runs, mode="a database per size")
