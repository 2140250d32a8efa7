import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routecare.demo.loader import ProductionDatabaseError, load_demo
from routecare.demo.synth import make_people


class Command(BaseCommand):
    help = "Generate synthetic people and journeys along the demo routes (bulk inserts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, required=True, help="how many people to add")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["people"] < 1:
            raise CommandError("--people must be at least 1")
        try:
            load_demo()
        except ProductionDatabaseError as refusal:
            raise CommandError(str(refusal)) from refusal
        started = time.perf_counter()
        encounters = make_people(options["people"], seed=options["seed"])
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Added {options['people']} people and {encounters} encounters in {elapsed:.1f} s."
        )
