from typing import Any

from django.core.management.base import BaseCommand, CommandError

from routecare.demo.loader import DEMO_PASSWORD, ProductionDatabaseError, load_demo


class Command(BaseCommand):
    help = "Load the demo networks, service points, routes, users and people (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sign_ins, people = load_demo()
        except ProductionDatabaseError as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({people} new demo people)."))
        self.stdout.write(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD}):")
        shown = [s for s in sign_ins if s.username.split("-")[0] in ("hn", "mk")]
        shown += [s for s in sign_ins if s.role in ("regional", "sysadmin")]
        for sign_in in shown:
            self.stdout.write(f"  {sign_in.username:<28} {sign_in.role:<12} {sign_in.where}")
        self.stdout.write(
            "  …and the same four roles for every society: co-, pa-, cr-, gt-, mx-, sv-, "
            "gr-, rs-, si- (e.g. gt-volunteer).\n"
            "  Focal points and sysadmin enrol an authenticator app at first sign-in.\n"
        )
