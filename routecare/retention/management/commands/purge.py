from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routecare.orgs.models import NationalSociety
from routecare.retention.actions import PurgeBusyError, purge_society


class Command(BaseCommand):
    help = (
        "Delete the records of people not seen for their National Society's retention period "
        "(indicators and the audit trail stay). Dry run by default: shows how many would go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--society", help="country code, e.g. HN (default: every society)")
        parser.add_argument("--apply", action="store_true", help="delete, not only count")

    def handle(self, *args: Any, **options: Any) -> None:
        societies = NationalSociety.objects.order_by("country_code")
        if options["society"]:
            societies = societies.filter(country_code=options["society"].upper())
            if not societies.exists():
                raise CommandError(f"No National Society with country code {options['society']}")
        for society in societies:
            try:
                report = purge_society(society, apply=options["apply"])
            except PurgeBusyError as exc:
                raise CommandError(
                    "The indicators are being refreshed right now; run the purge again."
                ) from exc
            self.stdout.write(str(report))
        if not options["apply"]:
            self.stdout.write("Dry run: nothing deleted. Run with --apply to delete.")
