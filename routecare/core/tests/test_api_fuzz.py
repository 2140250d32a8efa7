"""API fuzzing: schemathesis against the published OpenAPI schema, as every role.

The schema is read from /api/v1/openapi.json and every request is sent in-process to Django's
WSGI application, over the demo networks in the test database. Each generated request, valid
or not, goes out once for each role of the shared personas (anonymous, volunteer,
coordinator, focal point, partner, regional, system administrator), mostly with real ids
(of the personas' society, or of another) in place of the generated ones. Every answer
must be below 500, have a documented status code and content type, and a body that matches
the documented schema; the run must also reach real records (2xx answers) as every role.

The budget is small so that it runs in ``make test``: FUZZ_EXAMPLES cases per operation,
derandomized (the same requests on every run). ``ROUTECARE_FUZZ_EXAMPLES=100`` digs deeper.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi import converter
from schemathesis.specs.openapi.adapter import responses as schemathesis_responses
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from routecare.access import build_actor
from routecare.accounts.actions import create_api_token
from routecare.api import TOKEN_FAILURES_PER_HOUR
from routecare.cards.models import Card
from routecare.conftest import Society
from routecare.demo import loader
from routecare.feedback.actions import About, respond, submit_feedback
from routecare.feedback.models import FaqEntry, Feedback, FeedbackResponse
from routecare.flows import stock
from routecare.flows.actions import send_alert
from routecare.flows.models import Alert, StockItem, TransferRequest, TriggerEvent
from routecare.orgs.models import NationalSociety, Route, ServicePoint
from routecare.people.models import Encounter, FollowUp, Person
from routecare.referrals.actions import Destination, send_referral
from routecare.referrals.models import Referral

FUZZ_EXAMPLES = int(os.environ.get("ROUTECARE_FUZZ_EXAMPLES", "5"))
SCHEMA_URL = "/api/v1/openapi.json"
# Every answer, whatever the role and the input: no server error, and what the schema says.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Where a parameter with real values of its kind takes its value from (each entry equally
# likely: the personas' society's half the time).
SOURCES = ("own", "own", "elsewhere", "generated")
# The demo's Honduran staff (demo/loader.py), each role with the point a token would name.
PERSONAS = {
    "volunteer": ("hn-volunteer", "hnd-danli"),
    "coordinator": ("hn-coordinator", "hnd-las-manos"),
    "focal_point": ("hn-focal", "hnd-danli"),
    "partner": ("hn-partner", None),
    "regional": ("americas-regional", None),
    "sysadmin": ("sysadmin", None),
}


@dataclass
class Pool:
    own: list[Any]  # of the personas' society (or network)
    elsewhere: list[Any]  # of another society of the network, and of the other network


@dataclass
class World:
    # Per role, the credentials as WSGI sees them (the anonymous visitor sends none): set on
    # the request's environment, as schemathesis leaves out the header of a case that
    # negates it, and each role's credentials must reach the application whatever the case.
    credentials: dict[str, dict[str, str]]
    # Real values for parameters and body fields of these names, from the demo's objects.
    real: dict[str, Pool]
    # Fields whose name means something else in other operations.
    real_in: dict[str, dict[str, Pool]]


@dataclass
class Run:
    cases: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    answered: set[str] = field(default_factory=set)  # operations that answered a 2xx
    failures: list[str] = field(default_factory=list)


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """The deployed application. Requests run inside the test's transaction, so the
    connection must survive them, as Django's test client arranges for its own requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def tuples_validated_as_draft_2020_12(monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis 4.32 rewrites ``prefixItems`` (a tuple in OpenAPI 3.1, e.g. the rows of
    the indicator and trend tables) into Draft 4's ``items: [...]`` before validating
    responses, then validates with a Draft 2020-12 validator, which rejects its own rewrite as
    an invalid schema. Keeping ``prefixItems`` validates the tuples as published."""
    monkeypatch.setattr(
        schemathesis_responses,
        "to_json_schema",
        functools.partial(converter.to_json_schema, convert_prefix_items=False),
    )


@pytest.fixture
def api_schema(wsgi_app: WSGIHandler, tuples_validated_as_draft_2020_12: None) -> OpenApiSchema:
    return schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app)


def _load_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rebuilding the dashboards' rollups is most of the demo's time and none of the API's
    # answers depend on it; the dashboards' own tests build them.
    monkeypatch.setattr(loader, "refresh_since", lambda started: None)
    loader.load_demo()


def _add_what_the_demo_lacks() -> None:
    """Referrals, an alert, a transfer request and an answered feedback, so that their ids
    exist too."""
    volunteer = get_user_model().objects.get(username="hn-volunteer")
    coordinator = get_user_model().objects.get(username="hn-coordinator")
    focal = get_user_model().objects.get(username="hn-focal")
    danli = ServicePoint.objects.get(code="hnd-danli")
    actor = build_actor(volunteer, danli.pk, via="command")
    coordinating = build_actor(coordinator, ServicePoint.objects.get(code="hnd-las-manos").pk)
    focal_actor = build_actor(focal, danli.pk)
    assert actor is not None
    assert coordinating is not None
    assert focal_actor is not None
    honduran = Person.objects.filter(national_society=actor.national_society_id)
    for n, destination in enumerate(
        (
            Destination(point=ServicePoint.objects.get(code="hnd-tegucigalpa")),
            Destination(point=ServicePoint.objects.get(code="gtm-agua-caliente")),
        )
    ):
        send_referral(
            actor, honduran[n], destination=destination, referral_type="health",
            service="first-aid", reason="fuzz", idempotency_key=f"fuzz-referral-{n}",
        )  # fmt: skip
    send_alert(coordinating, kind="closure", severity="info", message="fuzz", scope="network")
    stock.request_transfer(coordinating, kind="staff", quantity=2)
    feedback, _new = submit_feedback(
        about=About(danli.national_society.network, danli.national_society),
        category="question", text="fuzz question", language="es",
        form_token="fuzz-feedback-0000", contact_method="email",
        contact_value="fuzz@example.org", contact_consent=True,
    )  # fmt: skip
    respond(focal_actor, feedback, "fuzz answer")


def _split(
    queryset: QuerySet[Any], own: Q, order: str, value: Callable[[Any], Any] = lambda o: str(o.pk)
) -> Pool:
    """A kind's real values: the personas' society's, then everyone else's (same order on
    every run, so that the derandomized draws pick the same objects)."""
    mine = set(queryset.filter(own).values_list("pk", flat=True))
    rows = list(queryset.order_by(order, "pk"))
    return Pool(
        own=[value(row) for row in rows if row.pk in mine],
        elsewhere=[value(row) for row in rows if row.pk not in mine],
    )


def _real_values() -> World:
    hn = NationalSociety.objects.get(country_code="HN")
    people = _split(Person.objects.all(), Q(national_society=hn), "created_at")
    points = _split(ServicePoint.objects.all(), Q(national_society=hn), "code")
    codes = _split(ServicePoint.objects.all(), Q(national_society=hn), "code", lambda p: p.code)
    countries = _split(
        NationalSociety.objects.all(), Q(pk=hn.pk), "country_code", lambda s: s.country_code
    )
    routes = _split(Route.objects.all(), Q(network=hn.network), "slug", lambda r: r.slug)
    entries = _split(FaqEntry.objects.all(), Q(network=hn.network), "created_at")
    today = timezone.localdate()
    return World(
        credentials={},
        real={
            "person_id": people,
            "household_of": people,
            "code": _split(
                Person.objects.all(), Q(national_society=hn), "created_at", lambda p: p.short_code
            ),
            "corrects": _split(
                Encounter.objects.all(), Q(person__national_society=hn), "occurred_at"
            ),
            "follow_up_id": _split(
                FollowUp.objects.all(), Q(person__national_society=hn), "created_at"
            ),
            "service_point_id": points,
            "to_point_id": points,
            "to_society_id": _split(NationalSociety.objects.all(), Q(pk=hn.pk), "country_code"),
            "service_point": codes,
            "supplying_point": codes,
            "point": codes,
            "referral_id": _split(
                Referral.objects.all(), Q(from_society=hn) | Q(to_society=hn), "created_at"
            ),
            "alert_id": _split(Alert.objects.all(), Q(from_society=hn), "created_at"),
            "slug": routes,
            "route": routes,
            "event_id": _split(TriggerEvent.objects.all(), Q(trigger__national_society=hn), "at"),
            "item_id": _split(
                StockItem.objects.all(), Q(service_point__national_society=hn), "name"
            ),
            "transfer_id": _split(
                TransferRequest.objects.all(),
                Q(requesting_point__national_society=hn),
                "requested_at",
            ),
            "feedback_id": _split(Feedback.objects.all(), Q(about_society=hn), "created_at"),
            "reference": _split(
                Feedback.objects.all(), Q(about_society=hn), "created_at", lambda f: f.reference
            ),
            "answer_id": _split(
                FeedbackResponse.objects.all(),
                Q(feedback__about_society=hn),
                "created_at",
                lambda r: r.pk,
            ),
            "entry_id": entries,
            "faq_entry": entries,
            "country": countries,
            "societies": Pool([[c] for c in countries.own], [[c] for c in countries.elsewhere]),
            "about": Pool(
                ["general", "society:HN", *(f"point:{code}" for code in codes.own)],
                [f"society:{c}" for c in countries.elsewhere]
                + [f"point:{code}" for code in codes.elsewhere],
            ),
            "assignee": _split(
                get_user_model().objects.all(),
                Q(membership__national_society=hn),
                "username",
                lambda u: u.username,
            ),
            # Within the 90 days a count may be corrected, and outside them.
            "day": Pool(
                [(today - dt.timedelta(days=n)).isoformat() for n in range(3)],
                [(today - dt.timedelta(days=n)).isoformat() for n in (91, 400, -1)],
            ),
        },
        real_in={
            "POST /api/v1/cards/read": {
                "text": _split(
                    Card.objects.all(),
                    Q(national_society=hn),
                    "issued_at",
                    lambda c: str(c.qr_text),
                ),
            },
        },
    )


@pytest.fixture
def world(db: None, monkeypatch: pytest.MonkeyPatch) -> World:
    _load_demo(monkeypatch)
    _add_what_the_demo_lacks()
    world = _real_values()
    users = get_user_model().objects
    for role, (username, point_code) in PERSONAS.items():
        point = ServicePoint.objects.get(code=point_code) if point_code else None
        _token, raw = create_api_token(users.get(username=username), "fuzz", point)
        world.credentials[role] = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    world.credentials["anonymous"] = {}
    return world


def _with_real_values(case: Case[Any], world: World, data: st.DataObject) -> None:
    """A parameter or body field with real values of its kind takes one of the personas'
    society's half the time, another's a quarter of the time, and keeps the generated one
    otherwise."""
    real = {**world.real, **world.real_in.get(case.operation.label, {})}
    locations: list[Any] = [case.path_parameters, case.query]
    if isinstance(case.body, dict):
        locations.append(case.body)
    for values in locations:
        for name in sorted(set(values or {}) & set(real)):
            source = data.draw(st.sampled_from(SOURCES), label=f"{name} from")
            candidates = [] if source == "generated" else getattr(real[name], source)
            if candidates:
                value = data.draw(st.sampled_from(candidates), label=name)
                values[name] = str(value) if values is case.path_parameters else value


def _fuzz(
    operation: APIOperation[Any, Any, Any, Any], world: World, run: Run, addresses: Iterator[str]
) -> None:
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @hypothesis.given(case=strategy, data=st.data())
    @hypothesis.settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            hypothesis.HealthCheck.too_slow,
            hypothesis.HealthCheck.filter_too_much,
        ],
    )
    def send_as_every_role(case: Case[Any], data: st.DataObject) -> None:
        run.cases += 1
        _with_real_values(case, world, data)
        # The generated credentials are replaced by each role's own (or none).
        case.headers.pop("Authorization", None)
        for role, credentials in world.credentials.items():
            # A new client address for each request: the rate limits (30 wrong tokens and 5
            # public feedback messages an hour) would otherwise turn the rest of the run into
            # 429s and hide what comes after them. Their answers are checked below.
            environ = {"REMOTE_ADDR": next(addresses), **credentials}
            response = case.call(environ_overrides=environ)
            run.statuses[(role, response.status_code)] += 1
            if response.status_code < 300:
                run.answered.add(operation.label)
            try:
                case.validate_response(response, checks=CHECKS)
            except BaseException as failure:
                failure.add_note(f"as {role}")
                raise

    try:
        # Each operation starts from the same data: what one changes, the next does not see.
        with transaction.atomic():
            send_as_every_role()
            transaction.set_rollback(True)
    except (Exception, BaseExceptionGroup) as failure:
        notes = " ".join(getattr(failure, "__notes__", [])[:1])
        run.failures.append(f"{operation.label} {notes}\n{str(failure)[:3000]}")


def test_api_answers_every_role_as_documented(world: World, api_schema: OpenApiSchema) -> None:
    run = Run()
    addresses = (f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in itertools.count(1))
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    for operation in operations:
        _fuzz(operation, world, run, addresses)
    never = sorted({operation.label for operation in operations} - run.answered)
    print(
        f"\n{len(operations)} operations, {run.cases} cases, {run.statuses.total()} requests, "
        f"{len(operations) - len(never)} operations answered 2xx"
    )
    assert run.failures == [], "\n\n".join(run.failures)
    assert len(operations) > 60
    assert run.cases >= len(operations) * 3
    # Not only refusals: every role reached something, and most operations did a real thing.
    for role in world.credentials:
        assert any(who == role and status < 300 for who, status in run.statuses), role
    assert len(never) <= len(operations) // 6, f"never answered 2xx: {never}"


def test_every_operation_documents_the_errors_answered_around_it(
    db: None, api_schema: OpenApiSchema
) -> None:
    checked = 0
    for path, methods in api_schema.raw_schema["paths"].items():
        for method, operation in methods.items():
            documented = set(operation["responses"])
            if operation.get("security"):
                assert {"401", "403", "429"} <= documented, f"{method} {path}"
            if "{" in path:
                assert "404" in documented, f"{method} {path}"
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in documented, f"{method} {path}"
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                assert "400" in documented, f"{method} {path}"
            checked += 1
    assert checked > 60


def _credentials(society: Society) -> dict[str, str]:
    _token, raw = create_api_token(society.volunteer, "fuzz", society.point)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_body_that_is_not_json_is_refused_in_the_callers_language(
    own: Society, api_schema: OpenApiSchema
) -> None:
    case = api_schema["/api/v1/people"]["POST"].Case(
        body=b"\xff{not json", media_type="application/json"
    )
    environ = {**_credentials(own), "HTTP_ACCEPT_LANGUAGE": "es"}
    response = case.call(environ_overrides=environ)
    assert response.status_code == 400
    assert response.json() == {"detail": "El cuerpo de la solicitud no es JSON válido."}
    case.validate_response(response, checks=CHECKS)


def test_rate_limited_answers_are_documented(
    own: Society, api_schema: OpenApiSchema, settings: Any
) -> None:
    """The fuzz gives each request its own address; here one address runs into each limit."""
    settings.ROUTECARE_FEEDBACK_PER_HOUR = 1
    address = {"REMOTE_ADDR": "10.200.0.1"}
    me = api_schema["/api/v1/me"]["GET"]
    for _ in range(TOKEN_FAILURES_PER_HOUR):
        guess = me.Case()
        wrong = guess.call(environ_overrides={**address, "HTTP_AUTHORIZATION": "Bearer rct_guess"})
        assert wrong.status_code == 401
        guess.validate_response(wrong, checks=CHECKS)
    public_feedback = api_schema["/api/v1/public/feedback"]["POST"]
    answer = api_schema["/api/v1/public/feedback/answer"]["POST"]
    limited = [
        (me.Case(), _credentials(own)),
        *(
            (
                public_feedback.Case(
                    body={
                        "country": "HN",
                        "about": "general",
                        "category": "praise",
                        "text": "gracias",
                        "language": "es",
                        "form_token": f"fuzz-limit-{n:08}",
                    },
                    media_type="application/json",
                ),
                {},
            )
            for n in range(2)
        ),
        *(
            (answer.Case(body={"reference": "FB-NONE"}, media_type="application/json"), {})
            for _ in range(31)
        ),
    ]
    statuses = []
    for case, credentials in limited:
        response = case.call(environ_overrides={**address, **credentials})
        case.validate_response(response, checks=CHECKS)
        statuses.append(response.status_code)
    assert statuses[0] == 429
    assert statuses[1:3] == [201, 429]
    assert statuses[-1] == 429
