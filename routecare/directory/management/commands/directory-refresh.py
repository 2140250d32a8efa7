"""Recompute the public directory's precomputed entries and route legs that differ from their
points and stops (after a restore or a bulk change made without the ORM's signals). Reads
check them anyway; this does it for all at once."""

from typing import Any

from django.core.management.base import BaseCommand

from routecare.directory.precomputed import refresh_all


class Command(BaseCommand):
    help = "Recompute the directory's precomputed entries and route legs that are out of date."

    def handle(self, *args: Any, **options: Any) -> None:
        entries, legs = refresh_all()
        self.stdout.write(f"{entries} entries and {legs} route legs recomputed")
