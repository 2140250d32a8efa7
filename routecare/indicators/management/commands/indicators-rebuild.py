"""`routecare indicators-rebuild`: recompute every rollup from encounters and daily counts
(after a bulk load or an import; the worker keeps them current otherwise)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from routecare.core.periodic import run_locked
from routecare.indicators.bulk import rebuild_all


class Command(BaseCommand):
    help = "Recompute every indicator rollup."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(run_locked("indicators.refresh", rebuild_all))
