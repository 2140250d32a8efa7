"""`routecare periodic`: run the periodic jobs (indicator rollups, triggers, Kobo pulls, referral
expiry) on a loop, or once with --once (for cron). `make worker` and `make run` start it."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from routecare.core.periodic import run_due, stop_on_sigterm


class Command(BaseCommand):
    help = "Run the periodic jobs that are due; loop unless --once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run what is due, then stop")
        parser.add_argument("--force", action="store_true", help="run every job now")
        parser.add_argument("--sleep", type=int, default=15, help="seconds between checks")

    def handle(self, *args: Any, **options: Any) -> None:
        stop_on_sigterm()
        while True:
            for name, result in run_due(force=options["force"]).items():
                self.stdout.write(f"{name}: {result}")
            if options["once"]:
                return
            time.sleep(max(options["sleep"], 1))
