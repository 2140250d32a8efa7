import argparse
import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routecare.bench.management.arguments import not_negative as _not_negative
from routecare.bench.management.arguments import positive as _positive
from routecare.bench.measure import run_single
from routecare.bench.orchestrate import (
    DATABASES,
    Options,
    default_postgres_url,
    default_sqlite_path,
    run_all,
)


def _databases(raw: str) -> list[str]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = sorted(set(names) - set(DATABASES))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(DATABASES)}")
    return list(dict.fromkeys(names))


class Command(BaseCommand):
    help = (
        "Benchmark person lookups and encounter writes through the API against a bare Django "
        "view, on SQLite and PostgreSQL. Prints one JSON object on stdout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=_positive, default=100_000)
        parser.add_argument("--lookups", type=_positive, default=500)
        parser.add_argument("--writes", type=_positive, default=500)
        parser.add_argument("--warmup", type=_not_negative, default=20)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--cards", type=_positive, default=10_000, help="synthetic card summaries to size"
        )
        parser.add_argument(
            "--hostile-cards",
            type=_positive,
            default=3000,
            help="hostile QR texts for the card property figures",
        )
        parser.add_argument(
            "--cash-enrolments",
            type=_positive,
            default=20_000,
            help="synthetic enrolments per cash linkage figure (the targets need 20,000)",
        )
        parser.add_argument(
            "--cash-round",
            type=_positive,
            default=200_000,
            help="enrolments of the round a cash check is timed against (the target: 200,000)",
        )
        parser.add_argument(
            "--writers",
            type=_positive,
            default=os.cpu_count() or 1,
            help="clients writing encounters at once for the throughput figure (default: cores)",
        )
        parser.add_argument(
            "--indicator-encounters",
            type=_positive,
            default=None,
            help="encounters behind the regional dashboard figure "
            "(default: 10 million on PostgreSQL, 1 million on SQLite)",
        )
        parser.add_argument(
            "--databases", type=_databases, default=list(DATABASES), help="sqlite,postgresql"
        )
        parser.add_argument(
            "--postgres-url",
            default=default_postgres_url(),
            help="default: $BENCH_POSTGRES_URL or postgres://root@127.0.0.1:5432/routecare_bench",
        )
        parser.add_argument("--sqlite-path", type=Path, default=default_sqlite_path())
        parser.add_argument(
            "--fresh", action="store_true", help="drop the bench databases and start over"
        )
        parser.add_argument(
            "--single",
            action="store_true",
            help="measure only the current database (DATABASE_URL), in this process",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["single"]:
            result = run_single(
                options["people"],
                options["lookups"],
                options["writes"],
                warmup=options["warmup"],
                seed=options["seed"],
                log=self._progress,
                writers=options["writers"],
                indicator_encounters=options["indicator_encounters"],
            )
            self.stdout.write(json.dumps(result))
            return
        report = run_all(
            Options(
                people=options["people"],
                lookups=options["lookups"],
                writes=options["writes"],
                warmup=options["warmup"],
                seed=options["seed"],
                fresh=options["fresh"],
                writers=options["writers"],
                cards=options["cards"],
                hostile_cards=options["hostile_cards"],
                indicator_encounters=options["indicator_encounters"],
                cash_enrolments=options["cash_enrolments"],
                cash_round=options["cash_round"],
            ),
            options["databases"],
            sqlite_path=options["sqlite_path"],
            postgres_url=options["postgres_url"],
            log=self._progress,
        )
        self.stdout.write(json.dumps(report, indent=2))
        failed = [name for name in options["databases"] if "failed" in report[name]]
        if failed:
            raise CommandError(f"the benchmark failed on: {', '.join(failed)}")
        disagreeing = [
            name
            for name in options["databases"]
            if (report[name].get("indicators_agreement") or {}).get("disagreements")
        ]
        if disagreeing:
            raise CommandError(
                f"the indicator views disagree on: {', '.join(disagreeing)} "
                "(indicators_agreement.examples)"
            )

    def _progress(self, message: str) -> None:
        self.stderr.write(f"bench: {message}")
        self.stderr.flush()
