"""`routecare periodic`: run the periodic jobs (indicator rollups, triggers, Kobo pulls, referral
expiry) on a loop, or once with --once (for cron). `make worker` and `make run` start it."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

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
            run_due(force=options["force"], report=self._report)
            if options["once"]:
                return
            time.sleep(max(options["sleep"], 1))

    def _report(self, name: str, result: str, wall: float, cpu: float) -> None:
        """One line a job run: when it ended, what it did, how long it took and the CPU it
        used in this process (what a slow job costs the machine shows in the log)."""
        ended = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        self.stdout.write(f"{ended} {name}: {result} ({wall:.2f} s, CPU {cpu:.2f} s)")
