"""Every write operation of the API, fed hostile values field by field: control characters,
bidi overrides, a megabyte of text, empty list items, dates in year 9999 or 1900, unknown
language codes, and a JSON array where an object is expected. Each answer must be a 4xx that
names the field, and nothing may be stored (rows counted, records compared before and after).
The values the definitions must keep (Dari, Tigrinya, Wolof; Persian joiners) are accepted."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from routecare.conftest import Society, api_client, register
from routecare.feedback import faq_actions
from routecare.feedback.actions import About, submit_feedback
from routecare.feedback.models import (
    FaqEntry,
    FaqText,
    FaqVersion,
    Feedback,
    FeedbackNote,
    FeedbackResponse,
)
from routecare.flows.models import (
    Alert,
    DailyCount,
    StockItem,
    StockMovement,
    TransferRequest,
    Trigger,
)
from routecare.indicators.models import Training
from routecare.orgs.models import ServicePoint
from routecare.people import actions
from routecare.people.models import (
    Consent,
    Encounter,
    EncounterService,
    FollowUp,
    HealthSummary,
    Person,
)
from routecare.referrals.actions import Destination, send_referral
from routecare.referrals.models import Referral, ReferralResponse

MEGABYTE = "x" * 1_000_000
# What no text may hold, whatever the field.
ANY_TEXT = {
    "NUL": "a\x00b",
    "escape": "\x1b[2Jcleared",
    "bell": "ring\x07",
    "DEL": "a\x7f",
    "C1 next line": "a\x85b",
    "right-to-left override": "invoice\u202efdp.exe",
    "isolate": "\u2066x\u2069",
    "one megabyte": MEGABYTE,
}
# What one-line texts may not hold either.
ONE_LINE = {**ANY_TEXT, "new line": "a\nb", "tab": "a\tb", "carriage return": "a\rb"}
BLANK = {"empty": "", "blank": "   "}
DATES = {"year 9999": "9999-12-31", "year 1900": "1900-01-01"}
LANGUAGES = {"zz": "zz", "qqq": "qqq", "xx": "xx", "upper case": "ES", "NUL": "e\x00"}


@dataclass
class World:
    own: Society
    other: Society
    person: Person
    referral: Referral
    feedback: Feedback
    entry: FaqEntry


@dataclass
class Operation:
    """One write operation: a valid body, and where each field may be spoiled."""

    method: str
    path: Callable[[World], str]
    body: Callable[[World], Any]
    caller: Callable[[World], Client]
    # dotted path in the body (list indexes as numbers) -> the hostile values to put there
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    # dotted path -> the name the answer gives the field, when the domain (not the schema)
    # refuses it: the record's own time is needed to judge it
    reported_as: dict[str, str] = field(default_factory=dict)


def _volunteer(world: World) -> Client:
    return api_client(world.own.volunteer, world.own.point)


def _focal(world: World) -> Client:
    return api_client(world.own.focal_point, world.own.point)


def _coordinator(world: World) -> Client:
    return api_client(world.own.coordinator, world.own.point)


def _receiver(world: World) -> Client:
    return api_client(world.other.coordinator, world.other.point)


def _person(world: World) -> str:
    return f"/api/v1/people/{world.person.pk}"


def _token() -> str:
    return uuid.uuid4().hex


TODAY = timezone.now().date()
IN_11_MONTHS = (TODAY + dt.timedelta(days=335)).isoformat()

OPERATIONS: dict[str, Operation] = {
    "register a person": Operation(
        "post", lambda w: "/api/v1/people",
        lambda w: {"sex": "female", "age_band": "18-59", "alias": "MK", "languages": ["ti"],
                   "travel_group": "family", "consents": ["care"],
                   "consent_language": "prs"},
        _volunteer,
        {"alias": ONE_LINE, "languages.0": LANGUAGES, "consent_language": LANGUAGES},
    ),
    "change the health summary": Operation(
        "patch", lambda w: f"{_person(w)}/health-summary",
        lambda w: {
            "allergies": ["penicillin", "پنی‌سیلین"],  # Persian with a ZWNJ
            "conditions": ["asthma"],
            "medicines": [{"name": "salbutamol", "dose": "2 puffs",
                           "dispensed_on": TODAY.isoformat()}],
            "pregnancy": {"weeks": 20,
                          "expected_date": (TODAY + dt.timedelta(weeks=20)).isoformat()},
            "child_growth": [{"measured_on": TODAY.isoformat(), "weight_kg": 12.5}],
            "vaccinations": [{"vaccine": "measles", "given_on": TODAY.isoformat()}],
        },
        _volunteer,
        {
            "allergies.0": {**ONE_LINE, **BLANK}, "allergies.1": {**BLANK},
            "conditions.0": {**ONE_LINE, **BLANK, "201 characters": "c" * 201},
            "medicines.0.name": {**ONE_LINE, **BLANK}, "medicines.0.dose": ONE_LINE,
            "medicines.0.dispensed_on": {**DATES,
                                         "tomorrow": (TODAY + dt.timedelta(days=2)).isoformat()},
            "pregnancy.expected_date": {**DATES,
                                        "in 11 months": IN_11_MONTHS},
            "child_growth.0.measured_on": DATES,
            "vaccinations.0.vaccine": {**ONE_LINE, **BLANK},
            "vaccinations.0.given_on": DATES,
        },
    ),
    "record an encounter": Operation(
        "post", lambda w: f"{_person(w)}/encounters",
        lambda w: {"services": [{"service": "first-aid", "quantity": 1}],
                   "notes": "blisters\non both feet",
                   "occurred_at": (timezone.now() - dt.timedelta(days=3)).isoformat(),
                   "follow_up": {"text": "re-check\tdressing",
                                 # due a day after the visit, three days ago: still valid
                                 "due": (TODAY - dt.timedelta(days=2)).isoformat()}},
        _volunteer,
        {"notes": ANY_TEXT, "follow_up.text": {**ANY_TEXT, **BLANK}, "follow_up.due": DATES},
        {"follow_up.due": "follow_up_due"},
    ),
    "add a follow-up": Operation(
        "post", lambda w: f"{_person(w)}/follow-ups",
        lambda w: {"text": "needs insulin\nrefill", "due": TODAY.isoformat()},
        _volunteer,
        {"text": {**ANY_TEXT, **BLANK}, "due": DATES},
        {"due": "follow_up_due"},
    ),
    "give consent": Operation(
        "post", lambda w: f"{_person(w)}/consents",
        lambda w: {"purpose": "messaging", "language": "wo"},
        _volunteer,
        {"language": LANGUAGES},
    ),
    "send a referral": Operation(
        "post", lambda w: f"{_person(w)}/referrals",
        lambda w: {"to_point_id": str(w.own.second_point.pk), "type": "health",
                   "service": "first-aid", "reason": "wound\ncare",
                   "due": (TODAY + dt.timedelta(days=7)).isoformat(),
                   "idempotency_key": _token()},
        _volunteer,
        {"reason": {**ANY_TEXT, **BLANK}, "due": DATES,
         "service_warning_reason": ANY_TEXT},
        {"due": "due"},
    ),
    "refer to a partner": Operation(
        "post", lambda w: f"{_person(w)}/referrals",
        lambda w: {"partner_name": "MSF clinic", "type": "health", "service": "first-aid",
                   "reason": "wound care", "override_reason": "life at risk",
                   "idempotency_key": _token()},
        _focal,
        {"partner_name": ONE_LINE, "override_reason": ANY_TEXT},
    ),
    "answer a referral": Operation(
        "post", lambda w: f"/api/v1/referrals/{w.referral.pk}/respond",
        lambda w: {"action": "decline", "note": "no capacity\ntoday"},
        _receiver,
        {"note": ANY_TEXT},
    ),
    "record feedback": Operation(
        "post", lambda w: "/api/v1/feedback",
        lambda w: {"about": "general", "category": "question", "text": "¿Dónde hay agua?",
                   "language": "es", "form_token": _token(), "contact_consent": True,
                   "contact_method": "email", "contact_value": "p@example.org"},
        _volunteer,
        {"text": {**ANY_TEXT, **BLANK}, "contact_value": ONE_LINE},
    ),
    "give feedback on the public page": Operation(
        "post", lambda w: "/api/v1/public/feedback",
        lambda w: {"country": "HN", "about": "general", "category": "praise",
                   "text": "gracias", "language": "es", "form_token": _token()},
        lambda w: Client(),
        {"text": {**ANY_TEXT, **BLANK}, "contact_value": ONE_LINE},
    ),
    "handle feedback: a staff note and an answer": Operation(
        "post", lambda w: f"/api/v1/feedback/{w.feedback.pk}",
        lambda w: {"note": "called\nthe point", "answer": "Water is free."},
        _focal,
        {"note": {**ANY_TEXT, **BLANK}, "answer": {**ANY_TEXT, **BLANK}},
    ),
    "write an FAQ entry": Operation(
        "post", lambda w: "/api/v1/faq",
        lambda w: {"texts": {"es": {"question": "¿Agua?", "answer": "Sí,\ngratis."}}},
        _focal,
        {"texts.es.question": {**ONE_LINE, **BLANK}, "texts.es.answer": ANY_TEXT},
    ),
    "edit an FAQ entry": Operation(
        "put", lambda w: f"/api/v1/faq/{w.entry.pk}",
        lambda w: {"texts": {"fa": {"question": "آب کجاست؟", "answer": "رایگان است."}}},
        _focal,
        {"texts.fa.question": {**ONE_LINE, **BLANK}, "texts.fa.answer": ANY_TEXT},
    ),
    "send an alert": Operation(
        "post", lambda w: "/api/v1/flows/alerts",
        lambda w: {"kind": "closure", "message": "Closed until\nMonday", "scope": "network",
                   "direction": "north"},
        _coordinator,
        {"message": {**ANY_TEXT, **BLANK}, "direction": ONE_LINE},
    ),
    "record a daily count": Operation(
        "post", lambda w: "/api/v1/flows/counts",
        lambda w: {"day": TODAY.isoformat(), "people": 5, "nationalities": {"VE": 2}},
        _coordinator,
        {"nationalities": {"NUL": {"V\x00": 1}, "unknown": {"ZZ": 1}}},
    ),
    "define an early-action trigger": Operation(
        "post", lambda w: "/api/v1/flows/triggers",
        lambda w: {"name": "Arrivals", "metric": "arrivals-3-day-average", "readiness": 10,
                   "activation": 20},
        _focal,
        {"name": {**ONE_LINE, **BLANK}},
    ),
    "add a stock item": Operation(
        "post", lambda w: "/api/v1/flows/stock",
        lambda w: {"kind": "hygiene-kit", "name": "Hygiene kit", "unit": "kits", "level": 3},
        _coordinator,
        {"name": {**ONE_LINE, **BLANK}, "unit": {**ONE_LINE, **BLANK}},
    ),
    "request a transfer": Operation(
        "post", lambda w: "/api/v1/flows/transfers",
        lambda w: {"kind": "staff", "quantity": 2, "note": "weekend\npeak"},
        _coordinator,
        {"note": ANY_TEXT, "item_name": ONE_LINE},
    ),
    "record a training": Operation(
        "post", lambda w: "/api/v1/indicators/trainings",
        lambda w: {"title": "First aid", "topic": "first-aid", "day": TODAY.isoformat(),
                   "attendance": [["volunteer", "female", 4]]},
        _coordinator,
        {"title": {**ONE_LINE, **BLANK}},
    ),
    "change a service point": Operation(
        "patch", lambda w: f"/api/v1/directory/service-points/{w.own.point.pk}",
        lambda w: {"languages": ["es", "prs"], "phone": "+504 2222 3333"},
        _focal,
        {"languages.1": LANGUAGES, "phone": ONE_LINE},
    ),
}  # fmt: skip


@pytest.fixture
def world(own: Society, other: Society) -> World:
    person = register(own, languages=["es"], consents=["care", "share-network"])
    actions.record_encounter(own.actor(), person, services=[("first-aid", 1)])
    actions.update_health_summary(own.actor(), person, allergies=["penicillin"])
    referral = send_referral(
        own.actor(), person, destination=Destination(point=other.point), referral_type="health",
        service="first-aid", reason="wound care", idempotency_key="hostile-referral",
    )  # fmt: skip
    feedback, _new = submit_feedback(
        about=About(own.society.network, own.society), category="question", text="¿Agua?",
        language="es", form_token="hostile-feedback-000", contact_method="email",
        contact_value="p@example.org", contact_consent=True,
    )  # fmt: skip
    entry = faq_actions.create_entry(
        own.actor("focal_point"), texts={"es": ("¿Agua?", "Sí.")}, tags=[]
    )
    return World(own, other, person, referral, feedback, entry)


def snapshot(world: World) -> dict[str, Any]:
    """What a write could change: rows of every kind, and the records that can be edited."""
    counted = (
        Person, Encounter, EncounterService, FollowUp, Consent, HealthSummary, Referral,
        ReferralResponse, Feedback, FeedbackNote, FeedbackResponse, FaqEntry, FaqText, FaqVersion,
        Alert, DailyCount, Trigger, StockItem, StockMovement, TransferRequest, Training,
    )  # fmt: skip
    point = ServicePoint.objects.get(pk=world.own.point.pk)
    summary = HealthSummary.objects.get(person=world.person)
    referral = Referral.objects.get(pk=world.referral.pk)
    feedback = Feedback.objects.get(pk=world.feedback.pk)
    entry = FaqEntry.objects.get(pk=world.entry.pk)
    return {
        **{model.__name__: model.objects.count() for model in counted},
        "health summary": {name: getattr(summary, name) for name in summary.SENSITIVE_FIELDS},
        "referral": referral.status,
        "feedback": (feedback.status, feedback.acknowledged_at),
        "faq entry": (entry.version, sorted((t.language, t.question) for t in entry.texts.all())),
        "service point": (point.languages, point.phone, point.whatsapp),
    }


def spoiled(body: Any, path: str, value: Any) -> Any:
    changed = copy.deepcopy(body)
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    target = changed
    for part in parents:
        target = target[part]
    target[last] = value
    return changed


def field_messages(answer: Any) -> dict[str, list[str]]:
    """The messages of a 4xx by field: a schema error's location in the body (after "body"
    and the parameter's name), or the domain's field name."""
    detail = answer.json()["detail"]
    if isinstance(detail, dict):
        return {name: list(messages) for name, messages in detail.items()}
    messages: dict[str, list[str]] = {}
    for error in detail:
        name = ".".join(str(part) for part in error["loc"][2:])
        messages.setdefault(name, []).append(error["msg"])
    return messages


def send(client: Client, operation: Operation, world: World, body: Any) -> Any:
    call = getattr(client, operation.method)
    return call(operation.path(world), body, content_type="application/json")


@pytest.mark.parametrize("name", OPERATIONS)
def test_hostile_values_are_refused_by_field_and_change_nothing(world: World, name: str) -> None:
    operation = OPERATIONS[name]
    client = operation.caller(world)
    failures = []
    for path, values in operation.fields.items():
        for label, value in values.items():
            before = snapshot(world)
            answer = send(client, operation, world, spoiled(operation.body(world), path, value))
            where = f"{path} = {label}"
            if not 400 <= answer.status_code < 500:
                failures.append(f"{where}: {answer.status_code} {answer.content[:200]!r}")
                continue
            expected = operation.reported_as.get(path, path)
            messages = field_messages(answer).get(expected)
            if not messages or not all(messages):
                failures.append(f"{where}: no message for {expected}: {answer.content[:300]!r}")
            if snapshot(world) != before:
                failures.append(f"{where}: something was stored")
            # The answer names the field, never a megabyte of it.
            assert len(answer.content) < 10_000
    assert failures == []


@pytest.mark.parametrize("name", OPERATIONS)
def test_a_json_array_for_an_object_is_refused_and_changes_nothing(world: World, name: str) -> None:
    operation = OPERATIONS[name]
    before = snapshot(world)
    answer = send(operation.caller(world), operation, world, [operation.body(world)])
    assert answer.status_code == 422
    assert field_messages(answer) == {"": ["Send a JSON object with the fields by name."]}
    assert snapshot(world) == before


@pytest.mark.parametrize("name", OPERATIONS)
def test_the_valid_bodies_are_accepted(world: World, name: str) -> None:
    """The bodies spoiled above are valid as they are: Dari, Tigrinya and Wolof codes,
    Persian joiners, new lines and tabs in multi-line texts, dates around the record's time
    (a follow-up due two days ago for a visit recorded three days late)."""
    operation = OPERATIONS[name]
    answer = send(operation.caller(world), operation, world, operation.body(world))
    assert answer.status_code in (200, 201), answer.content[:500]


def _write_operations(world: World) -> list[tuple[str, str]]:
    from routecare.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    found = []
    for path, methods in schema["paths"].items():
        for method, description in methods.items():
            if "application/json" in description.get("requestBody", {}).get("content", {}):
                found.append((method, path))
    return found


def test_every_write_operation_with_a_body_refuses_a_json_array(world: World) -> None:
    """Beyond the table above: flows, directory, indicators and cards too."""
    known = {
        "person_id": world.person.pk, "referral_id": world.referral.pk,
        "feedback_id": world.feedback.pk, "entry_id": world.entry.pk,
        "service_point_id": world.own.point.pk, "purpose": "care", "change": "approve",
        "status": "sent",
    }  # fmt: skip
    client = _focal(world)
    operations = _write_operations(world)
    assert len(operations) >= 20
    before = snapshot(world)
    for method, template in operations:
        path = template.format_map(
            {name: known.get(name, uuid.uuid4()) for name in _parameters(template)}
        )
        answer = getattr(client, method)(path, [{}], content_type="application/json")
        assert answer.status_code == 422, f"{method} {template}: {answer.content[:300]!r}"
        assert answer.json()["detail"], f"{method} {template}"
    assert snapshot(world) == before


def _parameters(template: str) -> list[str]:
    return [part[1:-1] for part in template.split("/") if part.startswith("{")]


def test_what_persian_pashto_and_urdu_need_is_kept(world: World) -> None:
    texts = ["نه\u200cخیر", "\u06a9\u200d\u0647", "\u200fآب", "ابو\u200cظبی"]
    answer = _volunteer(world).patch(
        f"{_person(world)}/health-summary", {"conditions": texts}, content_type="application/json"
    )
    assert answer.status_code == 200
    assert HealthSummary.objects.get(person=world.person).conditions == texts


# Codes, slugs and names the API looks up: no definition of their own, but no control
# character either (on PostgreSQL a NUL in a lookup was a server error).
LOOKED_UP = [
    ("give feedback on the public page", "country", "H\x00"),
    ("give feedback on the public page", "about", "point:\x00"),
    ("record feedback", "about", "society:\x1b"),
    ("request a transfer", "supplying_point", "hn-1\x00"),
    ("define an early-action trigger", "service_point", "hn-1\x00"),
    ("write an FAQ entry", "tags.0", "safety\x00"),
    ("send an alert", "route", "darien\x00"),
]


@pytest.mark.parametrize(("name", "path", "value"), LOOKED_UP)
def test_codes_looked_up_refuse_control_characters(
    world: World, name: str, path: str, value: str
) -> None:
    operation = OPERATIONS[name]
    body = operation.body(world)
    if path == "tags.0":
        body["tags"] = ["x"]
    before = snapshot(world)
    answer = send(operation.caller(world), operation, world, spoiled(body, path, value))
    assert answer.status_code == 422
    assert field_messages(answer) == {path: ["Remove the control characters (such as NUL)."]}
    assert snapshot(world) == before


def test_a_query_refuses_control_characters(world: World) -> None:
    answer = _volunteer(world).get("/api/v1/faq", {"q": "agua\x00", "language": "es"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "q"]


def test_channels_calling_the_actions_directly_are_refused_too(world: World) -> None:
    """Imports, commands and sync call the actions, not the API: the same definitions hold."""
    from django.core.exceptions import ValidationError

    from routecare.flows.actions import send_alert
    from routecare.indicators.actions import record_training

    coordinator = world.own.actor("coordinator")
    before = snapshot(world)
    with translation.override("en"), pytest.raises(ValidationError) as alert:
        send_alert(coordinator, kind="closure", severity="info", message="a\x1bb", scope="network")
    assert alert.value.message_dict == {"message": ["Remove the control characters (such as NUL)."]}
    with pytest.raises(ValidationError) as training:
        record_training(
            coordinator, title="first\u202eaid", topic="first-aid", day=TODAY,
            attendance={("volunteer", "female"): 2},
        )  # fmt: skip
    assert set(training.value.message_dict) == {"title"}
    with pytest.raises(ValidationError) as health:
        actions.update_health_summary(world.own.actor(), world.person, conditions=["x" * 201])
    assert set(health.value.message_dict) == {"conditions.0"}
    assert snapshot(world) == before
