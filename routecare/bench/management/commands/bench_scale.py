import argparse
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routecare.bench.management.arguments import not_negative as _not_negative
from routecare.bench.management.arguments import positive as _positive
from routecare.bench.scale import (
    DEFAULT_SIZES,
    ScaleOptions,
    build,
    default_postgres_url,
    measure_round,
    run_databases,
    run_in_place,
)


def _sizes(raw: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("numbers of people, e.g. 100000,1000000") from None
    if len(sizes) < 2 or any(size < 1 for size in sizes) or list(sizes) != sorted(set(sizes)):
        raise argparse.ArgumentTypeError(
            "at least two different numbers of people, smallest first, e.g. 100000,1000000"
        )
    return sizes


class Command(BaseCommand):
    help = (
        "Growth: person lookups and encounter writes at 100,000 and 1,000,000 people "
        "(PostgreSQL, a database per size, kept between runs), their p95 ratio and the index "
        "check of their statements. Prints one JSON object on stdout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale-sizes",
            type=_sizes,
            default=DEFAULT_SIZES,
            help="people at each size, smallest first (default: 100000,1000000)",
        )
        parser.add_argument("--lookups", type=_positive, default=500, help="per size")
        parser.add_argument("--writes", type=_positive, default=500, help="per size")
        parser.add_argument("--warmup", type=_not_negative, default=20, help="per round")
        parser.add_argument(
            "--rounds", type=_positive, default=4, help="rounds alternating the sizes"
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--postgres-url",
            default=default_postgres_url(),
            help="the base of the databases' URLs, _100k and _1m appended "
            "(default: $BENCH_SCALE_POSTGRES_URL or "
            "postgres://root@127.0.0.1:5432/routecare_bench_scale)",
        )
        parser.add_argument(
            "--fresh", action="store_true", help="drop the sizes' databases and build them again"
        )
        parser.add_argument(
            "--in-place",
            action="store_true",
            help="measure every size in the current database (DATABASE_URL), growing it "
            "between sizes, in this process",
        )
        parser.add_argument(
            "--single",
            choices=("build", "measure"),
            help="one step on the current database (DATABASE_URL): what each child runs",
        )
        parser.add_argument("--people", type=_positive, help="with --single build")
        parser.add_argument("--explain", action="store_true", help="with --single measure")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["single"] == "build":
            if options["people"] is None:
                raise CommandError("--single build needs --people")
            result = build(options["people"], seed=options["seed"], log=self._progress)
            self.stdout.write(json.dumps(result))
            return
        if options["single"] == "measure":
            result = measure_round(
                options["lookups"],
                options["writes"],
                warmup=options["warmup"],
                seed=options["seed"],
                explain=options["explain"],
                log=self._progress,
            )
            self.stdout.write(json.dumps(result))
            return
        scale = ScaleOptions(
            sizes=options["scale_sizes"],
            lookups=options["lookups"],
            writes=options["writes"],
            warmup=options["warmup"],
            rounds=options["rounds"],
            seed=options["seed"],
            fresh=options["fresh"],
        )
        if options["in_place"]:
            report = run_in_place(scale, log=self._progress)
        else:
            report = run_databases(scale, options["postgres_url"], log=self._progress)
        self.stdout.write(json.dumps(report, indent=2))
        failed = [label for label, figures in report["at"].items() if "failed" in figures]
        if failed:
            raise CommandError(f"the growth run failed at: {', '.join(failed)}")

    def _progress(self, message: str) -> None:
        self.stderr.write(f"bench-scale: {message}")
        self.stderr.flush()
