"""The JSON API at /api/v1/: the same selectors and actions as the staff pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import get_language, gettext
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.security import HttpBearer
from pydantic import create_model

from routecare.access import Actor, NoServicePoint
from routecare.accounts.actions import actor_for_token
from routecare.core import ratelimit
from routecare.core.api_errors import DESCRIPTIONS, SCHEMA_MESSAGES, implied_errors, schema_message

# Wrong tokens per client address and hour before the address is refused for the hour: enough
# for a misconfigured client to notice, too few to guess a token.
TOKEN_FAILURES_PER_HOUR = 30


class TokenGuessingError(Exception):
    pass


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rct_…``; tokens are created on the API tokens page."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        scope, limit = "api-token-failure", TOKEN_FAILURES_PER_HOUR
        if ratelimit.refused(scope, request, limit=limit, seconds=3600):
            raise TokenGuessingError
        actor = actor_for_token(token)
        if actor is None:
            ratelimit.allow(scope, request, limit=limit, seconds=3600)
        return actor


class _ErrorsDocumented(OpenAPISchema):
    """The published schema, with the errors answered around each operation (api_errors)."""

    def responses(self, operation: Operation) -> dict[int, Any]:
        documented: dict[int, Any] = super().responses(operation)
        for status, model in implied_errors(operation).items():
            if status in documented:  # the operation declares its own
                continue
            # Wrapped as ninja wraps declared responses, so the schema lands in components.
            wrapped: Any = create_model("ErrorResponse", __base__=Schema, response=(model, ...))
            schema, _required = self._create_schema_from_model(wrapped, mode="serialization")
            documented[status] = {
                "description": DESCRIPTIONS[status],
                "content": {self.api.renderer.media_type: {"schema": schema}},
            }
        return documented


class RouteCareAPI(NinjaAPI):
    _schemas: dict[tuple[str, str], OpenAPISchema] = {}  # one API per process

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        # Built once per prefix and language: building takes about half a second of CPU, and
        # /openapi.json is public.
        key = (path_prefix, get_language())
        schema = self._schemas.get(key)
        if schema is None:
            schema = self._schemas[key] = _ErrorsDocumented(self, path_prefix)
        return schema


api = RouteCareAPI(
    title="RouteCare API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    description=(
        "Continuity of care along migration routes. Authenticate with an API token "
        "(`Authorization: Bearer rct_…`). Unknown, malformed and other societies' ids all "
        "answer 404."
    ),
)


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            field: [str(message) for item in items for message in item.messages]
            for field, items in error.error_dict.items()
        }
    return {"__all__": [str(message) for message in error.messages]}


@api.exception_handler(ValidationError)
def domain_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": _messages(exc)}, status=422)


@api.exception_handler(NinjaValidationError)
def schema_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: list[dict[str, Any]] = [
        {
            "loc": list(error.get("loc", [])),
            "type": str(error.get("type", "")),
            "msg": schema_message(error),
        }
        for error in exc.errors
    ]
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(HttpError)
def unreadable_body(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's own 400 is a body it cannot parse, with an English message: translated here."""
    message = gettext(SCHEMA_MESSAGES["json_invalid"]) if exc.status_code == 400 else str(exc)
    return api.create_response(request, {"detail": message}, status=exc.status_code)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": gettext("Not found.")}, status=404)


@api.exception_handler(NoServicePoint)
def no_service_point(request: HttpRequest, exc: NoServicePoint) -> HttpResponse:
    message = gettext("This API token is not bound to a service point you work at.")
    return api.create_response(request, {"detail": message}, status=403)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": gettext("Not allowed for your role.")}, status=403
    )


@api.exception_handler(PermissionError)
def forbidden_domain(request: HttpRequest, exc: PermissionError) -> HttpResponse:
    return api.create_response(
        request, {"detail": gettext("Not allowed for your role.")}, status=403
    )


@api.exception_handler(TokenGuessingError)
def too_many_token_failures(request: HttpRequest, exc: TokenGuessingError) -> HttpResponse:
    message = gettext("Too many wrong API tokens from this address: try again in an hour.")
    return api.create_response(request, {"detail": message}, status=429)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": gettext("A valid API token is needed.")}, status=401
    )


def _register_routers() -> None:
    from routecare.cards.api import router as cards_router
    from routecare.cash.api import router as cash_router
    from routecare.directory.api import router as directory_router
    from routecare.feedback.api import router as feedback_router
    from routecare.flows.api import router as flows_router
    from routecare.indicators.api import router as indicators_router
    from routecare.orgs.api import router as orgs_router
    from routecare.people.api import router as people_router
    from routecare.referrals.api import router as referrals_router
    from routecare.sync.api import router as sync_router

    api.add_router("/", orgs_router)
    api.add_router("/people", people_router)
    api.add_router("/", cards_router)
    api.add_router("/", directory_router)
    api.add_router("/", referrals_router)
    api.add_router("/", flows_router)
    api.add_router("/", indicators_router)
    api.add_router("/", feedback_router)
    api.add_router("/", sync_router)
    api.add_router("/", cash_router)


_register_routers()
