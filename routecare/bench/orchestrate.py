"""Runs the single-database benchmark once per database, each in its own process.

A fresh process per database keeps one run's connections, caches and settings (DATABASE_URL is
read once, when settings load) from leaking into the other's figures.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import django
import psycopg
from django.conf import settings
from psycopg import sql

from routecare.bench.cards import HOSTILE_DECODE_MAX_MS, measure_cards, measure_hostile_cards
from routecare.bench.cash import measure_cash

DATABASES = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgres://root@127.0.0.1:5432/routecare_bench"
# The targets, on PostgreSQL on the 2-core reference machine.
TARGETS: dict[str, Any] = {
    "database": "postgresql",
    "person_lookup_p95_ms_max": 50,
    "encounter_writes_per_s_min": 150,
    # Issue 22: encounter writes by 2 writers at once on PostgreSQL (the server's database).
    "encounter_writes_per_s_min_postgresql": 300,
    # The SQL statements of one encounter write, BEGIN and COMMIT included (issue 22).
    "encounter_write_statements_max": 8,
    # The public directory page of the largest demo country, first load, map tiles excluded.
    "public_page_first_load_bytes_max": 50 * 1024,
    # Care cards at QR error correction M: a typical (median) one and the largest.
    "card_typical_qr_version_max": 12,
    "card_largest_qr_version_max": 15,
    # Hostile QR texts (the card property test): the slowest answer, refusal or reading.
    "hostile_card_decode_max_ms": HOSTILE_DECODE_MAX_MS,
    # Arrival forecasts of every point of a 100-point network with 365 days of counts each.
    "network_forecast_p95_ms_max": 1000,
    # The regional dashboard page over 10 million encounters (PostgreSQL; 1 million on SQLite):
    # 1 s when it was first measured, 250 ms since issue 22.
    "regional_dashboard_p95_ms_max": 250,
    # RouteCare's lookup and write p50 over the floor's: the same SQL statements sent by hand
    # from a plain view, in the same run (bench.floor). On both databases.
    "lookup_floor_ratio_max": 1.5,
    "write_floor_ratio_max": 1.5,
    # The public directory over a 500-point route, drawn afresh (not from the page cache):
    # the API's list, and the list page with what is next along the way (bench.directory).
    "public_api_list_p95_ms_max": 30,
    "public_page_next_along_p95_ms_max": 60,
    # The rollup refresh of the same new encounters on day 28 of a month over day 3, medians
    # (bench.indicators.measure_rollup_refresh): it follows new work, not the month's.
    "rollup_refresh_day28_over_day3_max": 1.2,
}
# 100k people and 10 million encounters take many minutes to synthesise the first time; this
# only stops a hung child from hanging `make`.
CHILD_TIMEOUT_SECONDS = 3 * 3600

Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    people: int
    lookups: int
    writes: int
    warmup: int
    seed: int
    fresh: bool
    writers: int = 1
    cards: int = 10_000  # synthetic summaries for the card size figures
    hostile_cards: int = 3000  # hostile QR texts for the card property figures
    # Encounters behind the regional dashboard figure; None: 10 million on PostgreSQL, one
    # million on SQLite.
    indicator_encounters: int | None = None
    # Synthetic enrolments per cash linkage figure, and the round a check is timed against.
    cash_enrolments: int = 20_000
    cash_round: int = 200_000


def default_sqlite_path() -> Path:
    return Path(settings.LOCAL_DIR) / "bench.sqlite3"


def default_postgres_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def prepare_sqlite(path: Path, fresh: bool) -> str | None:
    """Make room for the bench SQLite file, removed first when ``fresh``; the reason it
    cannot be used, or None."""
    if fresh and "bench" not in path.name:
        # Deleting is only for files that are obviously the benchmark's own.
        return f"--fresh refuses to delete {path}: its name does not contain 'bench'"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return None


def server_connection(params: Mapping[str, Any]) -> dict[str, Any]:
    """psycopg's keywords to reach the server of parsed database settings (dj_database_url),
    to connect to its ``postgres`` database and create or drop others."""
    return {
        key.lower(): value
        for key, value in params.items()
        if key in ("HOST", "PORT", "USER", "PASSWORD") and value
    }


def prepare_postgres(url: str, fresh: bool) -> str | None:
    """Create the bench database if missing; the reason it cannot be used, or None."""
    params = dj_database_url.parse(url)
    name = str(params.get("NAME") or "")
    if not name:
        return f"no database name in {_without_password(url)}"
    if fresh and "bench" not in name:
        # Dropping is only for databases that are obviously the benchmark's own.
        return f"--fresh refuses to drop {name!r}: its name does not contain 'bench'"
    connect = server_connection(params)
    try:
        with psycopg.connect(
            dbname="postgres", connect_timeout=5, autocommit=True, **connect
        ) as db:
            found = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if found and fresh:
                db.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                found = None
            if not found:
                db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        return f"PostgreSQL not usable at {_without_password(url)}: {exc}".strip()
    return None


def _without_password(url: str) -> str:
    params = dj_database_url.parse(url)
    host = params.get("HOST") or "localhost"
    return f"{params.get('USER') or ''}@{host}:{params.get('PORT') or 5432}/{params.get('NAME')}"


def child_argv(options: Options) -> list[str]:
    return [
        sys.executable,
        "-m",
        "django",
        "bench",
        "--single",
        f"--people={options.people}",
        f"--lookups={options.lookups}",
        f"--writes={options.writes}",
        f"--warmup={options.warmup}",
        f"--seed={options.seed}",
        f"--writers={options.writers}",
        *(
            [f"--indicator-encounters={options.indicator_encounters}"]
            if options.indicator_encounters
            else []
        ),
    ]


def run_child(database_url: str, options: Options) -> dict[str, Any]:
    """``bench --single`` in a new process on ``database_url``; its JSON, or why it failed."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
    }
    # A list argv and no shell: nothing from the environment is interpreted as a command.
    completed = subprocess.run(  # noqa: S603
        child_argv(options),
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        timeout=CHILD_TIMEOUT_SECONDS,
    )
    if completed.returncode != 0:
        return {"failed": f"bench --single exited with status {completed.returncode}"}
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if not lines:
        return {"failed": "bench --single printed nothing"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def meets_targets(result: dict[str, Any]) -> bool | None:
    """None when the database was not measured."""
    if "person_lookup_ms" not in result:
        return None
    directory = result.get("directory") or {}
    first_load = directory.get("public_page_first_load", {}).get("total_bytes", 0)
    # Measured in Chromium when it is there: the bytes a phone really fetches, the page once.
    visit = directory.get("public_first_visit") or {}
    browser_ok = (
        "skipped" in visit
        or not visit
        or (
            visit.get("public_first_visit_bytes", 0) <= TARGETS["public_page_first_load_bytes_max"]
            and visit.get("public_first_visit_document_requests") == 1
        )
    )
    api_list_ms = directory.get("public_api_list_ms", {}).get("p95", 0)
    next_along_ms = directory.get("public_page_next_along_ms", {}).get("p95", 0)
    forecast_ms = (result.get("flows") or {}).get("network_forecast_ms", {}).get("p95", 0)
    dashboard_ms = (result.get("indicators") or {}).get("regional_dashboard_ms", {}).get("p95", 0)
    refresh_ratio = (result.get("indicators") or {}).get("rollup_refresh_day28_over_day3") or 0
    # Every role's indicator views agree over the bench's data (bench.agreement).
    agreement = result.get("indicators_agreement") or {}
    # Judged served by gunicorn, the stack (bench.served; the in-process ratios are
    # reported beside). A run without them cannot say it meets these targets.
    served = result.get("served") or {}
    floor_ok = (
        served.get("lookup_floor_ratio", math.inf) <= TARGETS["lookup_floor_ratio_max"]
        and served.get("write_floor_ratio", math.inf) <= TARGETS["write_floor_ratio_max"]
    )
    # Likewise a run without the write's statement count.
    statements_ok = (
        result.get("encounter_write_statements", math.inf)
        <= TARGETS["encounter_write_statements_max"]
    )
    # The helpdesk's figures, when measured (served runs).
    messaging_ok = (result.get("messaging") or {}).get("meets_targets", "messaging" not in result)
    return bool(
        statements_ok
        and messaging_ok
        and not agreement.get("disagreements")
        and forecast_ms <= TARGETS["network_forecast_p95_ms_max"]
        and dashboard_ms <= TARGETS["regional_dashboard_p95_ms_max"]
        and refresh_ratio <= TARGETS["rollup_refresh_day28_over_day3_max"]
        and result["person_lookup_ms"]["p95"] < TARGETS["person_lookup_p95_ms_max"]
        and result["encounter_writes_per_s"] >= TARGETS["encounter_writes_per_s_min"]
        and (
            not str(result.get("database", "")).startswith("postgresql")
            or result["encounter_writes_per_s"] >= TARGETS["encounter_writes_per_s_min_postgresql"]
        )
        and first_load <= TARGETS["public_page_first_load_bytes_max"]
        and api_list_ms <= TARGETS["public_api_list_p95_ms_max"]
        and next_along_ms <= TARGETS["public_page_next_along_p95_ms_max"]
        and browser_ok
        and floor_ok
    )


def build_report(
    options: Options,
    results: dict[str, dict[str, Any]],
    cards: dict[str, Any] | None = None,
    hostile_cards: dict[str, Any] | None = None,
    cash: dict[str, Any] | None = None,
) -> dict[str, Any]:
    meets = {name: meets_targets(result) for name, result in results.items()}
    if cash is not None:
        meets["cash"] = cash["meets_targets"]
    if cards is not None:
        meets["cards"] = cards["meets_targets"]
    if hostile_cards is not None:
        meets["hostile_cards"] = hostile_cards["meets_targets"]
    return {
        "people": options.people,
        "lookups": options.lookups,
        "writes": options.writes,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "django": django.get_version(),
        },
        **results,
        "cards": cards,
        "hostile_cards": hostile_cards,
        "cash": cash,
        "targets": TARGETS,
        "meets_targets": meets,
    }


def run_all(
    options: Options,
    databases: list[str],
    sqlite_path: Path,
    postgres_url: str,
    log: Log,
    runner: Callable[[str, Options], dict[str, Any]] = run_child,
) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    for name in databases:
        if name == "sqlite":
            reason = prepare_sqlite(sqlite_path, options.fresh)
            url = sqlite_url(sqlite_path)
        else:
            reason = prepare_postgres(postgres_url, options.fresh)
            url = postgres_url
        if reason is not None:
            log(f"{name} skipped: {reason}")
            results[name] = {"skipped": reason}
            continue
        log(f"== {name}")
        results[name] = runner(url, options)
    log(f"== care cards: {options.cards} synthetic summaries")
    cards = measure_cards(options.cards, seed=options.seed)
    log(f"== hostile care cards: {options.hostile_cards} texts (the card property test)")
    hostile = measure_hostile_cards(options.hostile_cards, seed=options.seed)
    log("== cash de-duplication: linkage quality, speed, the frequency attack")
    cash = measure_cash(options.seed, log, options.cash_enrolments, options.cash_round)
    return build_report(options, results, cards, hostile, cash)
