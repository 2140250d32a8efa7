"""What an enrolment reads of a person to encode them, and what it accepts: the rules shared
by the staff form, the API schema and the action (``core.fields``).

These values live only in the request that enrols a person (``actions.enrol_person``): they
are never stored, logged, put in an audit detail or an error message, or sent further.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from routecare.core import fields

GIVEN_NAMES = fields.Text(100, required=True)
SURNAMES = fields.Text(100, required=True)
# No one alive was born before; a date in the future is a typing error.
EARLIEST_BIRTH = dt.date(1900, 1, 1)
# Blocking compares years of birth one apart (matching), so a year is all that is kept.
MIN_LETTERS = 2


def name_problem(value: str) -> str | None:
    """Why a name part cannot be encoded (a sentence for the volunteer), or None."""
    problem = GIVEN_NAMES.problem(value)
    if problem is not None:
        return problem
    if sum(1 for character in value if character.isalpha()) < MIN_LETTERS:
        return gettext("Write at least two letters.")
    return None


def birth_date_problem(day: dt.date, today: dt.date) -> str | None:
    if day > today:
        return gettext("The date of birth cannot be in the future.")
    if day < EARLIEST_BIRTH:
        return gettext("Give a date of birth from 1900 on.")
    return None


def check(given_names: str, surnames: str, birth_date: dt.date, today: dt.date) -> None:
    """A ValidationError naming each field that is refused (never repeating its value)."""
    problems = {
        "given_names": name_problem(given_names),
        "surnames": name_problem(surnames),
        "birth_date": birth_date_problem(birth_date, today),
    }
    refused = {field: problem for field, problem in problems.items() if problem is not None}
    if refused:
        raise ValidationError(refused)
