"""``routecare chaos``: the field-node sync chaos test; prints one JSON object of figures and
exits non-zero when a record was lost, duplicated or differs (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routecare.bench.chaos.run import ChaosOptions, as_json, run


class Command(BaseCommand):
    help = "Nodes behind a faulty link against a real server: nothing lost or duplicated."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = ChaosOptions()
        parser.add_argument(
            "--database-url", default=defaults.database_url,
            help="the server's PostgreSQL database (dropped and created)",
        )  # fmt: skip
        parser.add_argument("--nodes", type=int, default=defaults.nodes)
        parser.add_argument("--people-per-node", type=int, default=defaults.people_per_node)
        parser.add_argument("--shared-people", type=int, default=defaults.shared_people)
        parser.add_argument("--throughput-people", type=int, default=defaults.throughput_people)
        parser.add_argument("--seed", type=int, default=defaults.seed)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["nodes"] < 2:
            raise CommandError("At least two nodes: two of them share a service point.")
        result = run(
            ChaosOptions(
                database_url=options["database_url"], nodes=options["nodes"],
                people_per_node=options["people_per_node"],
                shared_people=options["shared_people"],
                throughput_people=options["throughput_people"], seed=options["seed"],
            )
        )  # fmt: skip
        self.stdout.write(as_json(result))
        if result.problems:
            raise CommandError(f"{len(result.problems)} problems: see 'problems' above")
