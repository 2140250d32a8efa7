"""The JSON API at /api/v1/: the same selectors and actions as the staff pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from routecare.access import Actor
from routecare.accounts.actions import actor_for_token


class TokenAuth(HttpBearer):
    """``Authorization: Bearer rct_…``; tokens are created on the API tokens page."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return actor_for_token(token)


api = NinjaAPI(
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
        {"loc": list(error.get("loc", [])), "msg": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": "Not allowed for your role."}, status=403)


@api.exception_handler(PermissionError)
def forbidden_domain(request: HttpRequest, exc: PermissionError) -> HttpResponse:
    return api.create_response(request, {"detail": "Not allowed for your role."}, status=403)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "A valid API token is needed."}, status=401)


def _register_routers() -> None:
    from routecare.orgs.api import router as orgs_router
    from routecare.people.api import router as people_router

    api.add_router("/", orgs_router)
    api.add_router("/people", people_router)


_register_routers()
