"""One benchmark run on the current database: data set-up, then timings taken in-process.

Requests go through ``django.test.Client``: the whole middleware stack, URL resolution, django
ninja, token authentication, the selectors and actions and their audit events, but no network
and no WSGI server. The same client times a bare Django JSON view, so the ratio of the two is
RouteCare's own cost over Django's, and the floor (``bench.floor``): RouteCare's own SQL
statements sent by hand from a plain view, so the ratio to it is RouteCare's cost over the least
those requests need.
"""

from __future__ import annotations

import gc
import math
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.http import HttpResponseBase
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from routecare.access import build_actor
from routecare.accounts.actions import create_api_token
from routecare.audit.models import AuditEvent
from routecare.bench.agreement import check_indicator_agreement
from routecare.bench.concurrent import measure_concurrent_writes
from routecare.bench.directory import ROUTE_POINTS, measure_directory
from routecare.bench.floor import FLOOR_DETAIL
from routecare.bench.flows import DAYS as FLOW_DAYS
from routecare.bench.flows import POINTS as FLOW_POINTS
from routecare.bench.flows import measure_forecasts
from routecare.bench.indicators import NETWORK as INDICATOR_NETWORK
from routecare.bench.indicators import measure_indicators, measure_rollup_refresh
from routecare.bench.messaging import measure_messaging
from routecare.bench.preregistration import measure_scan_to_saved
from routecare.bench.served import measure_served
from routecare.bench.stats import ratio, summarise
from routecare.bench.suppression import measure_cold_dashboards
from routecare.bench.urls import BARE_PATH, FLOOR_LOOKUP_PATH, FLOOR_WRITE_PREFIX
from routecare.cards.actions import issue_card
from routecare.demo.loader import load_demo
from routecare.demo.synth import make_people
from routecare.orgs.models import ServicePoint
from routecare.people.models import Encounter, Person

Log = Callable[[str], None]
Send = Callable[[int], HttpResponseBase]

# A demo volunteer at one of their society's points: the role that looks people up all day.
BENCH_USER = "hn-volunteer"
BENCH_POINT = "hnd-danli"
LOOKUP_URL = "/api/v1/people/lookup"
CARD_READ_URL = "/api/v1/cards/read"
# Cards issued for the scan-to-summary figure (each read checks one of them).
BENCH_CARDS = 100
BARE_URL = "/" + BARE_PATH
FLOOR_LOOKUP_URL = "/" + FLOOR_LOOKUP_PATH
CONCURRENT_ROUNDS = 3
# Extra requests, after the timed ones, that split request time into SQL and Python.
PROFILE_REQUESTS = 50
# Encounters behind the regional dashboard figure, per database (the issue's sizes).
INDICATOR_ENCOUNTERS = {"postgresql": 10_000_000, "sqlite": 1_000_000}
# A typical quick visit: two services and a triage colour, no free text.
ENCOUNTER_BODY: dict[str, Any] = {
    "services": [{"service": "water", "quantity": 2}, {"service": "first-aid", "quantity": 1}],
    "triage": "green",
}


def _quiet(message: str) -> None:
    """The default progress sink: say nothing."""


class BenchError(RuntimeError):
    """A request answered something other than what the benchmark expects."""


@dataclass(frozen=True)
class Dataset:
    people: int
    people_added: int
    encounters: int
    demo_seconds: float
    synth_seconds: float
    analyze_seconds: float


@dataclass(frozen=True)
class Target:
    """Who sends the requests and what they may ask about."""

    user: User
    point: ServicePoint
    client: Client
    token: str
    codes: list[str]
    person_ids: list[uuid.UUID]


def prepare(people: int, seed: int = 7, log: Log = _quiet) -> Dataset:
    """Load the demo, then top synthetic people up until the database holds ``people``."""
    started = time.perf_counter()
    load_demo()
    demo_seconds = time.perf_counter() - started
    # The indicator bench's millions of people are not the people looked up here.
    people_here = Person.objects.exclude(national_society__network__slug=INDICATOR_NETWORK)
    existing = people_here.count()
    missing = max(0, people - existing)
    started = time.perf_counter()
    if missing:
        log(f"adding {missing} synthetic people to the {existing} present")
        # A seed per top-up size, so a second top-up does not repeat the first one's journeys.
        make_people(missing, seed=seed + existing)
    synth_seconds = time.perf_counter() - started
    analyze_seconds = _refresh_statistics()
    return Dataset(
        people=people_here.count(),
        people_added=missing,
        encounters=Encounter.objects.filter(person__in=people_here).count(),
        demo_seconds=round(demo_seconds, 2),
        synth_seconds=round(synth_seconds, 2),
        analyze_seconds=round(analyze_seconds, 2),
    )


def _refresh_statistics() -> float:
    """Planner statistics for the bulk-loaded tables, as autovacuum keeps them on a live
    server; a bench server may have autovacuum off (the reference machine's has)."""
    started = time.perf_counter()
    statement = "ANALYZE"
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # VACUUM also sets the hint bits and visibility map a bulk load leaves unset, which
        # otherwise the first timed writes would pay for. It cannot run in a transaction
        # (as in the tests), where ANALYZE alone does.
        statement = "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(statement)
    return time.perf_counter() - started


def _target(rng: random.Random) -> Target:
    user = get_user_model().objects.get(username=BENCH_USER)
    point = ServicePoint.objects.get(code=BENCH_POINT)
    _token, raw = create_api_token(user, "bench", point)
    rows = list(
        Person.objects.filter(national_society_id=point.national_society_id).values_list(
            "pk", "short_code"
        )
    )
    if not rows:
        raise BenchError(f"no people in the society of {BENCH_POINT}")
    rng.shuffle(rows)
    return Target(
        user=user,
        point=point,
        client=Client(headers={"Authorization": f"Bearer {raw}"}),
        token=raw,
        codes=[code for _pk, code in rows],
        person_ids=[pk for pk, _code in rows],
    )


def _card_texts(target: Target, rng: random.Random) -> list[str]:
    """Cards for a sample of the society's people, issued as staff would issue them."""
    actor = build_actor(target.user, target.point.pk, via="command")
    if actor is None:
        raise BenchError(f"{BENCH_USER} cannot work at {BENCH_POINT}")
    people = Person.objects.filter(
        pk__in=rng.sample(target.person_ids, min(BENCH_CARDS, len(target.person_ids)))
    )
    return [str(issue_card(actor, person).qr_text) for person in people]


@dataclass(frozen=True)
class Phase:
    """One kind of request: how to send the n-th one, how many, and the status expected."""

    name: str
    send: Send
    count: int
    expected: int


def _warm_up(phases: Sequence[Phase], count: int) -> None:
    """Untimed requests first: the first ones build URL resolvers, schemas and caches."""
    for phase in phases:
        for index in range(count):
            _check(phase.send(index), phase.expected)


def _time_interleaved(phases: Sequence[Phase]) -> dict[str, list[float]]:
    """Per-request durations in ms of each phase.

    The phases take turns, request by request, rather than running one after the other: a
    virtual machine's CPU speed drifts by tens of percent within minutes, and taking turns
    exposes every kind of request to the same drift, which keeps their ratios meaningful.
    """
    # Garbage left by the set-up would otherwise be collected during the timed requests.
    gc.collect()
    durations: dict[str, list[float]] = {phase.name: [] for phase in phases}
    for index in range(max(phase.count for phase in phases)):
        for phase in phases:
            if index < phase.count:
                before = time.perf_counter()
                response = phase.send(index)
                _end_of_request()
                durations[phase.name].append((time.perf_counter() - before) * 1000)
                _check(response, phase.expected)
    return durations


def _end_of_request() -> None:
    """What Django's request handler does after each response and the test client skips:
    close connections older than CONN_MAX_AGE. That is 0 for SQLite in our settings, so SQLite
    reconnects per request here as it does when served; PostgreSQL keeps its connection.
    Skipped inside a transaction (the tests run in one), which closing would end."""
    if not connection.in_atomic_block:
        close_old_connections()


def _check(response: HttpResponseBase, expected: int) -> None:
    if response.status_code != expected:
        body = getattr(response, "content", b"")[:300]
        raise BenchError(f"expected {expected}, got {response.status_code}: {body!r}")


def _queries_of(send: Send) -> int:
    """Queries one more request runs, BEGIN and COMMIT included; counted outside the timed
    loops because capturing them costs time."""
    with CaptureQueriesContext(connection) as captured:
        send(0)
    return len(captured.captured_queries)


def _statements_of(send: Send) -> int:
    """SQL statements one more request sends, each transaction's BEGIN and COMMIT counted
    once on both databases (Django sends BEGIN itself on SQLite only, and COMMIT through the
    driver on both, where no capture sees it)."""
    ended = 0

    def counting(end: Callable[[], None]) -> Callable[[], None]:
        def counted() -> None:
            nonlocal ended
            ended += 1
            end()

        return counted

    ends = {name: getattr(connection, name) for name in ("commit", "rollback")}
    for name, end in ends.items():
        setattr(connection, name, counting(end))
    try:
        with CaptureQueriesContext(connection) as captured:
            send(0)
    finally:
        for name in ends:
            delattr(connection, name)
    sent = [q for q in captured.captured_queries if not q["sql"].upper().startswith("BEGIN")]
    return len(sent) + 2 * ended


def _sql_share(send: Send, count: int) -> dict[str, float]:
    """Mean request time and the part of it spent executing SQL statements, over ``count``
    extra requests: tells database cost from Python cost (transaction COMMITs, which do not
    go through the execute wrapper, count as Python here)."""
    spent: list[float] = []

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        before = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - before)

    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        for index in range(count):
            send(index)
            _end_of_request()
    total = time.perf_counter() - started
    return {
        "requests": count,
        "statements_per_request": round(len(spent) / count, 2),
        "request_ms": round(total * 1000 / count, 3),
        "sql_ms": round(sum(spent) * 1000 / count, 3),
    }


def _lookup_events() -> int:
    return AuditEvent.objects.filter(action="read", object_type="person", detail="lookup").count()


def _write_events() -> int:
    # The floor's writes (bench.floor) leave the same events, marked in ``detail``.
    events = AuditEvent.objects.filter(action="create", object_type="encounter")
    return events.exclude(detail=FLOOR_DETAIL).count()


def _picker(values: Sequence[Any], rng: random.Random) -> Callable[[int], Any]:
    return lambda _index: rng.choice(values)


def cpu_calibration_ms() -> float:
    """A fixed pure-Python workload, best of five. Virtual machines' CPUs change speed with
    their neighbours; runs are only comparable when this is too."""
    best = math.inf
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(100):
            sum(range(100_000))
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def database_label() -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            row = cursor.fetchone()
        return f"postgresql {row[0] if row else '?'}"
    if connection.vendor == "sqlite":
        return f"sqlite {sqlite3.sqlite_version}"
    return connection.vendor


def measure(
    lookups: int,
    writes: int,
    warmup: int = 20,
    seed: int = 7,
    log: Log = _quiet,
    writers: int = 1,
    indicator_encounters: int | None = None,
    writes_only: bool = False,
    served: bool = True,
) -> dict[str, Any]:
    """Time person lookups, encounter writes, the bare view and the floor of lookups and writes
    on prepared data, in the process and (``served``) served by gunicorn; then, with more than
    one writer, encounter write throughput with that many clients at once. ``writes_only``
    leaves out the directory, flows and indicators (a test of the writers' plumbing)."""
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

    card_texts = _card_texts(target, rng)
    card = _picker(card_texts, rng)

    def card_read(index: int) -> HttpResponseBase:
        return client.post(CARD_READ_URL, {"text": card(index)}, content_type="application/json")

    def bare(index: int) -> HttpResponseBase:
        # The same body and headers as a lookup, so only the work behind the URL differs.
        return client.post(BARE_URL, {"code": code(index)}, content_type="application/json")

    # The floor (bench.floor): the same requests, the same client, RouteCare's statements
    # sent by hand.
    def floor_lookup(index: int) -> HttpResponseBase:
        body = {"code": code(index)}
        return client.post(FLOOR_LOOKUP_URL, body, content_type="application/json")

    def floor_write(index: int) -> HttpResponseBase:
        url = f"/{FLOOR_WRITE_PREFIX}{person(index)}/encounters"
        return client.post(url, ENCOUNTER_BODY, content_type="application/json")

    phases = [
        Phase("lookup", lookup, lookups, 200),
        Phase("write", write, writes, 201),
        Phase("card_read", card_read, lookups, 200),
        Phase("bare", bare, lookups, 200),
        Phase("floor_lookup", floor_lookup, lookups, 200),
        Phase("floor_write", floor_write, writes, 201),
    ]
    with override_settings(ROOT_URLCONF="routecare.bench.urls"):
        log(
            f"{lookups} person lookups, {writes} encounter writes, {lookups} bare requests, "
            "and the floor of both"
        )
        _warm_up(phases, warmup)
        # Counted around the timed requests only: the warm-up ones are audited too.
        lookup_events, write_events = _lookup_events(), _write_events()
        durations = _time_interleaved(phases)
        lookup_events = _lookup_events() - lookup_events
        write_events = _write_events() - write_events
        queries = {
            "lookup": _queries_of(lookup),
            "encounter_write": _queries_of(write),
            "card_read": _queries_of(card_read),
            "bare": _queries_of(bare),
            "floor_lookup": _queries_of(floor_lookup),
            "floor_write": _queries_of(floor_write),
        }
        # The request's own statements, BEGIN and COMMIT included (issue 22: at most 8).
        write_statements = _statements_of(write)
        profile_count = min(PROFILE_REQUESTS, lookups, writes)
        sql_share = {
            "lookup": _sql_share(lookup, profile_count),
            "encounter_write": _sql_share(write, profile_count),
        }
    # The same requests and their floor served by gunicorn (bench.served): the issue's stack.
    served_figures = (
        measure_served(target.token, code, person, ENCOUNTER_BODY, lookups, writes, warmup, log)
        if served
        else None
    )
    directory: dict[str, Any] | None = None
    flows: dict[str, Any] | None = None
    indicators: dict[str, Any] | None = None
    agreement: dict[str, Any] | None = None
    if not writes_only:
        directory, flows, indicators, agreement = _measure_the_rest(
            lookups, indicator_encounters, log
        )
    single_client_writes_per_s = round(writes * 1000 / sum(durations["write"]), 1)
    concurrent = None
    if writers > 1:
        log(f"{writes} encounter writes by {writers} clients at once")
        tokens = [
            create_api_token(target.user, f"bench writer {n}", target.point)[1]
            for n in range(writers)
        ]
        # The median of a few rounds: one round can land on a moment the virtual machine's
        # CPU or disk is slow (see docs/benchmarks.md, "Reading the figures").
        rounds = [
            measure_concurrent_writes(tokens, target.person_ids, writes, ENCOUNTER_BODY)
            for _ in range(CONCURRENT_ROUNDS)
        ]
        if any(round_["failed_writes"] for round_ in rounds):
            raise BenchError("some concurrent writes failed")
        concurrent = sorted(rounds, key=lambda round_: float(round_["writes_per_s"]))[
            len(rounds) // 2
        ]
        concurrent = {**concurrent, "rounds_writes_per_s": [r["writes_per_s"] for r in rounds]}
    lookup_ms, write_ms, bare_ms = durations["lookup"], durations["write"], durations["bare"]
    lookup_summary = summarise(lookup_ms)
    write_summary = summarise(write_ms)
    bare_summary = summarise(bare_ms)
    floor_lookup_summary = summarise(durations["floor_lookup"])
    floor_write_summary = summarise(durations["floor_write"])
    return {
        "people_in_society": len(target.person_ids),
        "lookups": lookups,
        "person_lookup_ms": lookup_summary,
        "audit_events_per_lookup": round(lookup_events / lookups, 3),
        "writes": writes,
        # With several writers: all their writes over the wall time (the server's throughput).
        # With one: writes over the time spent in them (other requests take turns between).
        "encounter_writes_per_s": (
            concurrent["writes_per_s"] if concurrent else single_client_writes_per_s
        ),
        "encounter_writes_per_s_single_client": single_client_writes_per_s,
        "concurrent_writes": concurrent,
        "encounter_write_ms": write_summary,
        # What one encounter write sends, BEGIN and COMMIT included; its stock is taken later,
        # for many encounters at once, by the worker (flows.stock_use.take_waiting).
        "encounter_write_statements": write_statements,
        "audit_events_per_write": round(write_events / writes, 3),
        # Scan to summary: verify, decrypt, check revocation, audit, answer (server side).
        "card_read_ms": summarise(durations["card_read"]),
        "directory": directory,
        "flows": flows,
        "indicators": indicators,
        "indicators_agreement": agreement,
        "bare_django_ms": bare_summary,
        "lookup_overhead_ratio": ratio(lookup_summary["p50"], bare_summary["p50"]),
        "write_overhead_ratio": ratio(write_summary["p50"], bare_summary["p50"]),
        # RouteCare's own statements sent by hand (bench.floor), timed in turn with the rest.
        "floor_ms": {"lookup": floor_lookup_summary, "write": floor_write_summary},
        "lookup_floor_ratio": ratio(lookup_summary["p50"], floor_lookup_summary["p50"]),
        "write_floor_ratio": ratio(write_summary["p50"], floor_write_summary["p50"]),
        # The same, served by gunicorn with the load test's settings (bench.served): what the
        # targets are judged on.
        "served": served_figures,
        "queries_per_request": queries,
        "sql_share": sql_share,
    }


def _measure_the_rest(
    lookups: int, indicator_encounters: int | None, log: Log
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The directory, flows and indicators figures, and whether every indicator view agrees."""
    log(f"directory: {min(lookups, 200)} requests each on a {ROUTE_POINTS}-point route")
    directory = measure_directory(min(lookups, 200))
    log(f"flows: forecasts of a {FLOW_POINTS}-point network with {FLOW_DAYS} days of counts")
    flows = measure_forecasts()
    if indicator_encounters is None:
        indicator_encounters = INDICATOR_ENCOUNTERS.get(connection.vendor, 1_000_000)
    log(f"indicators: the regional dashboard over {indicator_encounters:,} encounters")
    indicators = measure_indicators(indicator_encounters, log=log)
    # A test-sized run has small figures everywhere: each cold view protects a whole year of
    # its 96 points, so one view once says enough there.
    small_run = indicator_encounters < 100_000
    indicators |= measure_cold_dashboards(
        repeats=1 if small_run else 2, log=log, views=1 if small_run else None
    )
    if small_run:  # a few encounters a day: the refresh's plumbing, not its cost
        indicators |= measure_rollup_refresh(log=log, per_day=40, pool=200, repeats=1)
    else:
        indicators |= measure_rollup_refresh(log=log)
    log("indicators: every role's page, chart, API and exports agree")
    agreement = check_indicator_agreement(log)
    return directory, flows, indicators, agreement


def measure_database(
    people: int,
    lookups: int,
    writes: int,
    warmup: int = 20,
    seed: int = 7,
    log: Log = _quiet,
    writers: int = 1,
    indicator_encounters: int | None = None,
    writes_only: bool = False,
    served: bool = True,
) -> dict[str, Any]:
    """Set the data up and measure, on an already migrated database."""
    dataset = prepare(people, seed=seed, log=log)
    log(f"data: {dataset.people} people, {dataset.encounters} encounters")
    load_before = os.getloadavg()[0]
    cpu_before = cpu_calibration_ms()
    figures = measure(
        lookups,
        writes,
        warmup=warmup,
        seed=seed,
        log=log,
        writers=writers,
        indicator_encounters=indicator_encounters,
        writes_only=writes_only,
        served=served,
    )
    if served and not writes_only:
        # The helpdesk's webhooks and worker (issue 23), served the same way.
        log("messaging: webhooks served by gunicorn, answers by the task worker")
        figures["messaging"] = measure_messaging(log)
    if not writes_only:
        runs = 20 if lookups >= 100 else 2
        log(f"pre-registration: scan to saved record in Chromium, {runs} runs")
        figures["preregistration"] = measure_scan_to_saved(runs)
    return {
        "database": database_label(),
        "people": dataset.people,
        "encounters": dataset.encounters,
        "people_added": dataset.people_added,
        "synth_seconds": dataset.synth_seconds,
        "demo_seconds": dataset.demo_seconds,
        "analyze_seconds": dataset.analyze_seconds,
        # Other work on the machine skews timings. The benchmark itself adds about 1 to 2
        # (this process and the database server); much more means the figures are noisy.
        "load_average_1m": {
            "before": round(load_before, 2),
            "after": round(os.getloadavg()[0], 2),
        },
        "cpu_calibration_ms": {"before": cpu_before, "after": cpu_calibration_ms()},
        **figures,
    }


def run_single(
    people: int,
    lookups: int,
    writes: int,
    warmup: int = 20,
    seed: int = 7,
    log: Log = _quiet,
    writers: int = 1,
    indicator_encounters: int | None = None,
) -> dict[str, Any]:
    """Migrate the current database, then ``measure_database``; what ``bench --single`` runs."""
    log(f"migrating {connection.vendor} database {connection.settings_dict['NAME']}")
    started = time.perf_counter()
    # Migration chatter goes to the progress stream: stdout carries only the JSON result.
    call_command("migrate", interactive=False, verbosity=0, stdout=_LogStream(log))
    migrate_seconds = round(time.perf_counter() - started, 2)
    result = measure_database(
        people,
        lookups,
        writes,
        warmup=warmup,
        seed=seed,
        log=log,
        writers=writers,
        indicator_encounters=indicator_encounters,
    )
    return {**result, "migrate_seconds": migrate_seconds}


class _LogStream:
    """A file-like sink for ``call_command`` output that forwards lines to the progress log."""

    def __init__(self, log: Log) -> None:
        self.log = log

    def write(self, text: str) -> int:
        if text.strip():
            self.log(text.rstrip())
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""
