"""``routecare node-staff-password <username>``: at a field node, set the password a staff
member signs in with there (offline too). It never leaves the node; the server's password
hashes never reach it."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routecare.accounts.actions import NodePasswordError, set_node_password


class Command(BaseCommand):
    help = (
        "On a field node: set a volunteer's or coordinator's sign-in password at this node "
        "(asked twice, or one line from standard input with --stdin)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--stdin",
            action="store_true",
            help="read the password from standard input",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        if options["stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass(f"Password for {username} at this node: ")
            if getpass.getpass("The same password again: ") != password:
                raise CommandError("The two passwords differ: nothing changed.")
        if not password:
            raise CommandError("Give a password: nothing changed.")
        try:
            set_node_password(username, password)
        except NodePasswordError as error:
            raise CommandError(f"{error} Nothing changed.") from error
        self.stdout.write(f"{username} can now sign in at this node with that password.")
