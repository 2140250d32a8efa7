"""The ``routecare`` console script: every management command of the project."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "routecare.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
