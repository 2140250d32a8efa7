import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from routecare.bench.messaging import TARGETS, measure_messaging
from routecare.bench.orchestrate import prepare_postgres, prepare_sqlite, sqlite_url

DEFAULT_SQLITE = Path(settings.BASE_DIR) / ".local" / "bench-messaging.sqlite3"
DEFAULT_POSTGRES = os.environ.get(
    "BENCH_MESSAGING_POSTGRES_URL", "postgres://root@127.0.0.1:5432/routecare_bench_messaging"
)


class Command(BaseCommand):
    help = (
        "Helpdesk figures (issue 23): webhook acknowledgement at 100 deliveries a second, "
        "replayed deliveries kept once, the bot's answer time with the task worker running; "
        "on SQLite and PostgreSQL (a database of their own each). One JSON object on stdout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--databases", default="sqlite,postgresql")
        parser.add_argument("--single", action="store_true", help="the current database only")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["single"]:
            call_command("migrate", interactive=False, verbosity=0)
            result = measure_messaging(lambda text: self.stderr.write(f"bench: {text}"))
            self.stdout.write(json.dumps(result))
            return
        report: dict[str, Any] = {"targets": TARGETS}
        for name in options["databases"].split(","):
            if name == "sqlite":
                problem, url = prepare_sqlite(DEFAULT_SQLITE, False), sqlite_url(DEFAULT_SQLITE)
            else:
                problem, url = prepare_postgres(DEFAULT_POSTGRES, False), DEFAULT_POSTGRES
            self.stderr.write(f"bench: == {name}")
            report[name] = {"failed": problem} if problem else self._child(url)
        self.stdout.write(json.dumps(report, indent=2))

    def _child(self, url: str) -> dict[str, Any]:
        env = {**os.environ, "DATABASE_URL": url}
        env.pop("ROUTECARE_TASKS", None)
        completed = subprocess.run(
            [sys.executable, "-m", "django", "bench_messaging", "--single"],
            env={**env, "DJANGO_SETTINGS_MODULE": "routecare.settings"},
            stdout=subprocess.PIPE, text=True, check=False, timeout=1800,
        )  # fmt: skip
        lines = [line for line in completed.stdout.splitlines() if line.strip()]
        if completed.returncode != 0 or not lines:
            return {"failed": f"bench_messaging --single exited with {completed.returncode}"}
        result: dict[str, Any] = json.loads(lines[-1])
        return result
