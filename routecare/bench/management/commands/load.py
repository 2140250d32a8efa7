import argparse
import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routecare.bench.load.prepare import migrate, prepare_plan
from routecare.bench.load.run import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    LoadOptions,
    local_dir,
    run_load,
)
from routecare.bench.load.summary import parse_duration
from routecare.bench.management.arguments import positive as _positive


def _duration(raw: str) -> str:
    try:
        if parse_duration(raw) < 1:
            raise ValueError(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("a run time such as 300, 5m or 1m30s") from exc
    return raw


class Command(BaseCommand):
    help = (
        "Load test: gunicorn and PostgreSQL on loopback, locust users doing what service "
        "points, coordinators and people on the move do. Prints one JSON object on stdout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = LoadOptions()
        parser.add_argument("--users", type=_positive, default=defaults.users)
        parser.add_argument(
            "--spawn-rate",
            type=float,
            default=None,
            help="users started per second (default: all up in about 15 s)",
        )
        parser.add_argument("--duration", type=_duration, default=defaults.duration)
        parser.add_argument("--people", type=_positive, default=defaults.people)
        parser.add_argument("--workers", type=_positive, default=defaults.workers)
        parser.add_argument("--threads", type=_positive, default=defaults.threads)
        parser.add_argument(
            "--keep-alive",
            type=int,
            default=defaults.keep_alive,
            help="seconds gunicorn keeps idle connections (0: one request per connection)",
        )
        parser.add_argument("--port", type=_positive, default=defaults.port)
        parser.add_argument(
            "--database-url",
            default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_DATABASE_URL),
            help=f"default: $LOAD_DATABASE_URL or {DEFAULT_DATABASE_URL}; created if missing",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="no task worker or periodic jobs beside"
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument(
            "--instances",
            type=_positive,
            default=defaults.instances,
            help="gunicorn instances; two or more run behind haproxy, sharing caches in Redis",
        )
        parser.add_argument(
            "--redis-url",
            default=os.environ.get("LOAD_REDIS_URL", DEFAULT_REDIS_URL),
            help=f"with --instances 2 or more: default $LOAD_REDIS_URL or {DEFAULT_REDIS_URL}",
        )
        parser.add_argument(
            "--output", type=Path, default=None, help="also save the JSON (.local/load.json)"
        )
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="only migrate and seed the current database and write the plan (internal)",
        )
        parser.add_argument("--plan", type=Path, default=None, help="with --prepare")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["prepare"]:
            if options["plan"] is None:
                raise CommandError("--prepare needs --plan")
            migrate_seconds = migrate()
            plan = prepare_plan(options["people"], seed=options["seed"], log=self._progress)
            plan.data["migrate_seconds"] = migrate_seconds
            plan.write(options["plan"])
            self._progress(f"plan written: {json.dumps(plan.data)}")
            return
        users = options["users"]
        load_options = LoadOptions(
            users=users,
            spawn_rate=options["spawn_rate"] or max(1.0, round(users / 15, 1)),
            duration=options["duration"],
            people=options["people"],
            workers=options["workers"],
            threads=options["threads"],
            keep_alive=options["keep_alive"],
            port=options["port"],
            database_url=options["database_url"],
            worker=not options["no_worker"],
            seed=options["seed"],
            instances=options["instances"],
            redis_url=options["redis_url"],
        )
        try:
            report = run_load(load_options, log=self._progress)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(report, indent=2)
        output = options["output"] or local_dir() / "load.json"
        output.write_text(text + "\n", encoding="utf-8")
        self.stdout.write(text)
        self._progress(f"saved to {output}")

    def _progress(self, message: str) -> None:
        self.stderr.write(f"load: {message}")
        self.stderr.flush()
