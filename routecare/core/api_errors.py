"""The error answers of the JSON API, in one vocabulary for every router.

Most errors are not answered by an operation's own code but around it: the token check (401,
429), the access rule (403), the parsing of a JSON body (400), the input schemas (422) and the
selectors that turn unknown or other societies' ids into 404. ``implied_errors`` says which of
those an operation can give, and routecare/api.py documents them on every operation of the
published OpenAPI schema; an operation declares in its ``response=`` only the errors its own
code answers.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop
from ninja import Schema
from ninja.operation import Operation

from routecare.core.fields import ERROR_TYPES


class ErrorOut(Schema):
    detail: str


class InvalidField(Schema):
    loc: list[str | int]
    type: str
    msg: str


class InvalidInputOut(Schema):
    """A list of schema errors (input that does not fit the documented schema), or messages
    per field from the domain's validation (input that fits the schema but not the rules)."""

    detail: list[InvalidField] | dict[str, list[str]]


DESCRIPTIONS = {
    400: "The request body is not valid JSON",
    401: "No valid API token",
    403: "Not allowed for the token's role, or the token is bound to no point its user works at",
    404: "Not found: unknown or malformed ids, and other societies' ids",
    422: "Invalid input",
    429: "Too many wrong API tokens from this address: refused for the rest of the hour",
}


def implied_errors(operation: Operation) -> dict[int, type[Schema]]:
    """The errors an operation can answer without its own code saying so."""
    errors: dict[int, type[Schema]] = {}
    if operation.auth_callbacks:
        errors.update({401: ErrorOut, 403: ErrorOut, 429: ErrorOut})
    sources = {model.__ninja_param_source__ for model in operation.models}
    if "path" in sources:
        errors[404] = ErrorOut
    if "body" in sources:
        errors[400] = ErrorOut
    if sources:
        errors[422] = InvalidInputOut
    return errors


# Pydantic's messages are English only; these cover what our schemas can fail on, translated.
SCHEMA_MESSAGES: dict[str, str] = {
    "missing": gettext_noop("This field is required."),
    "enum": gettext_noop("Not a valid choice."),
    "literal_error": gettext_noop("Not a valid choice."),
    "greater_than_equal": gettext_noop("Ensure this value is at least %(ge)s."),
    "less_than_equal": gettext_noop("Ensure this value is at most %(le)s."),
    "string_too_short": gettext_noop("Ensure this has at least %(min_length)s characters."),
    "string_too_long": gettext_noop("Ensure this has at most %(max_length)s characters."),
    "too_short": gettext_noop("Give at least %(min_length)s items."),
    "too_long": gettext_noop("Give at most %(max_length)s items."),
    "int_parsing": gettext_noop("Enter a whole number."),
    "int_type": gettext_noop("Enter a whole number."),
    "date_from_datetime_parsing": gettext_noop("Enter a valid date (YYYY-MM-DD)."),
    "date_parsing": gettext_noop("Enter a valid date (YYYY-MM-DD)."),
    "datetime_from_date_parsing": gettext_noop("Enter a valid date and time (ISO 8601)."),
    "datetime_parsing": gettext_noop("Enter a valid date and time (ISO 8601)."),
    "json_invalid": gettext_noop("The request body is not valid JSON."),
    "model_type": gettext_noop("Send a JSON object with the fields by name."),
    "dict_type": gettext_noop("Send a JSON object with the fields by name."),
}


def schema_message(error: dict[str, Any]) -> str:
    if error.get("type") in ERROR_TYPES:
        # A field definition's own sentence, already in the caller's language.
        return str(error.get("msg", ""))
    template = SCHEMA_MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return gettext("Enter a valid value.")
    try:
        return gettext(template) % dict(error.get("ctx") or {})
    except (KeyError, TypeError, ValueError):
        return gettext(template)
