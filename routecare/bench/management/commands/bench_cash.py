import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from routecare.bench.cash import measure_cash


class Command(BaseCommand):
    help = (
        "Cash de-duplication figures (issue 24): linkage quality on synthetic rounds of the "
        "Americas and Western Balkans routes, encoding speed, a check against 200,000 "
        "enrolments, the frequency attack's re-identification rate. One JSON object on stdout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        result = measure_cash(options["seed"], lambda text: self.stderr.write(f"bench: {text}"))
        self.stdout.write(json.dumps(result, indent=2))
