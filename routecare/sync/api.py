"""``/api/v1/sync/…``: what enrolled field nodes call. Authenticated by the node's own
credential (``Authorization: Bearer rcn_…``), never by a staff member's token."""

import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.security import HttpBearer

from routecare.access import Rule, api_rule
from routecare.core import ratelimit
from routecare.core.api_errors import ErrorOut
from routecare.sync import nodes, tls
from routecare.sync.ingest import apply_batch
from routecare.sync.models import Node
from routecare.sync.pull import page as pull_page

P = ParamSpec("P")
R = TypeVar("R")

# A batch is at most this big: a node on a weak link sends many small ones and resumes.
MAX_BATCH_BYTES = 256 * 1024


class NodeAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Node | None:
        return nodes.node_for_credential(token)


def node_rule(func: Callable[P, R]) -> Callable[P, R]:
    """Declares the operation as a node's (the authorization walk finds the rule)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return func(*args, **kwargs)

    wrapper.access_rule = Rule.NODE  # type: ignore[attr-defined]
    return wrapper


router = Router(tags=["sync"], auth=NodeAuth())


def _error(message: str, status: int) -> HttpResponse:
    return JsonResponse({"detail": message}, status=status)


class PushOut(Schema):
    outcomes: list[dict[str, Any]]


@router.post(
    "/sync/push", response={200: PushOut, 400: ErrorOut, 413: ErrorOut},
    summary="Push a batch of changes",
)  # fmt: skip
@node_rule
def push(request: HttpRequest) -> HttpResponse:
    """A batch of changes (``{"changes": [...], "backlog": n}``); one outcome per change, in
    order. Each change is all-or-nothing; a 409 is the outcome of one change, not the batch."""
    node: Node = request.auth  # type: ignore[attr-defined]
    if len(request.body) > MAX_BATCH_BYTES:
        return _error(_("A batch is at most 256 KB: send fewer changes at once."), 413)
    try:
        batch = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _error(_("The batch is not valid JSON."), 400)
    changes = batch.get("changes") if isinstance(batch, dict) else None
    if not isinstance(changes, list) or len(changes) > 1000:
        return _error(_("A batch is an object with a list of at most 1000 changes."), 400)
    nodes.record_contact(node, batch.get("backlog"), request.headers.get("X-RouteCare-Version"))
    outcomes = apply_batch(node, changes)
    return JsonResponse({"outcomes": [outcome.as_wire() for outcome in outcomes]})


ENROL_FAILURES_PER_HOUR = 10


@router.get(
    "/sync/pull", response={200: dict[str, Any], 400: ErrorOut}, summary="Pull a page of updates"
)
@node_rule
def pull(request: HttpRequest, since: str = "", page: int = 0) -> HttpResponse:
    """Erasures first, then reference data, then the records of the people relevant to the
    node's point changed since ``since`` (the ``server_time`` of the node's last complete
    pull), ``page`` by ``page`` until ``complete``."""
    node: Node = request.auth  # type: ignore[attr-defined]
    when = None
    if since:
        try:
            when = dt.datetime.fromisoformat(since)
        except ValueError:
            when = None
        if when is None or timezone.is_naive(when):
            return _error(_("since must be a date and time with its time zone."), 400)
    if not 0 <= page <= 10000:
        return _error(_("page must be between 0 and 10000."), 400)
    nodes.record_contact(node, None, request.headers.get("X-RouteCare-Version"))
    return JsonResponse(pull_page(node, when, page))


class EnrolIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=80)
    version: str = Field(default="", max_length=40)
    # What else the node sends at enrolment (cards: the node's card-signing public key; tls:
    # its HTTPS certificate request).
    extra: dict[str, str] = Field(default_factory=dict, max_length=10)


class EnrolOut(Schema):
    node_id: str
    credential: str
    service_point_id: str
    national_society_id: str
    extra: dict[str, Any]


@router.post(
    "/sync/enroll", auth=None, response={200: EnrolOut, 400: ErrorOut, 429: ErrorOut},
    summary="Enrol a node",
)  # fmt: skip
@api_rule(Rule.PUBLIC)
def enroll(request: HttpRequest, payload: EnrolIn) -> HttpResponse:
    """Trade a one-time enrolment code for the node's own credential (and its HTTPS
    certificate, signed by the society's authority for the names its request asks). Wrong
    codes are counted per address: a few per hour, then refused. A certificate request that
    cannot be signed answers 422 and leaves the code unused."""
    scope = "node-enrolment-failure"
    if ratelimit.refused(scope, request, limit=ENROL_FAILURES_PER_HOUR, seconds=3600):
        return _error(_("Too many wrong enrolment codes from this address: try in an hour."), 429)
    try:
        enrolment = nodes.enroll(payload.code, payload.name, payload.version, payload.extra)
    except tls.CertificateRequestError as error:
        # The code was right (it is checked first) and stays unused: not a guess.
        return JsonResponse({"detail": error.message_dict}, status=422)
    except ValidationError as error:
        ratelimit.allow(scope, request, limit=ENROL_FAILURES_PER_HOUR, seconds=3600)
        return _error(" ".join(error.messages), 400)
    node = enrolment.node
    return JsonResponse(
        {
            "node_id": str(node.pk),
            "credential": enrolment.credential,
            "service_point_id": str(node.service_point_id),
            "national_society_id": str(node.national_society_id),
            "extra": enrolment.extra,
        }
    )
