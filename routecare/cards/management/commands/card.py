import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routecare.cards import tooling
from routecare.cards.format import CardError
from routecare.cards.messages import read_error


class Command(BaseCommand):
    help = (
        "`card encode --society HN`: a JSON care summary on stdin, its QR text on stdout. "
        "`card decode`: a card's QR text on stdin, its JSON summary on stdout (exit 1 with a "
        "message if it cannot be read). Uses the card keys in the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operation", choices=["encode", "decode"])
        parser.add_argument("--society", help="country code of the issuing National Society")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source = sys.stdin.read()
        except UnicodeDecodeError as error:
            raise CommandError("the input is not UTF-8 text") from error
        if options["operation"] == "encode":
            if not options["society"]:
                raise CommandError("give the issuing society: --society HN")
            try:
                text, dropped = tooling.encode_json(source, options["society"])
            except tooling.ToolError as error:
                raise CommandError(str(error)) from error
            if dropped:
                self.stderr.write(f"left off to fit: {json.dumps(dropped)}")
            # No new line after the text: fed as it is to a QR generator, a new line would take
            # the text out of alphanumeric mode (a version 18-19 code instead of 12).
            self.stdout.write(text, ending="")
            if self.stdout.isatty():
                self.stderr.write("")
        else:
            try:
                summary = tooling.decode_text(source)
            except CardError as error:
                raise CommandError(f"{error.code}: {read_error(error.code)}") from error
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
