"""The error answers of the JSON API, in one vocabulary for every router.

Most errors are not answered by an operation's own code but around it: the token check (401,
429), the access rule (403), the parsing of a JSON body (400), the input schemas (422) and the
selectors that turn unknown or other societies' ids into 404. ``implied_errors`` says which of
those an operation can give, and routecare/api.py documents them on every operation of the
published OpenAPI schema; an operation declares in its ``response=`` only the errors its own
code answers.
"""

from __future__ import annotations

from ninja import Schema
from ninja.operation import Operation


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
