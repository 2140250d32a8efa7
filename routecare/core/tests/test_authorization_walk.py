"""Walks every URL pattern and every API operation as every role, against own-society and
other-society objects, and fails if anything leaks or if an endpoint declares no access rule."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from routecare.access import Rule
from routecare.accounts.actions import create_api_token
from routecare.api import api
from routecare.audit.models import AuditEvent
from routecare.cards.actions import issue_card
from routecare.cards.keys import ensure_keys
from routecare.cash.actions import RoundInput, create_round, enrol_person
from routecare.conftest import Society, api_client, sign_in_client
from routecare.feedback.actions import About, respond, submit_feedback
from routecare.feedback.faq_actions import approve_entry, create_entry
from routecare.flows import stock, triggers
from routecare.flows.actions import record_daily_count, send_alert
from routecare.flows.models import Metric
from routecare.indicators.kobo.importer import connect_form
from routecare.messaging import receiving
from routecare.messaging.models import (
    Channel,
    ChannelKind,
    Conversation,
    ConversationState,
    Message,
)
from routecare.notifications.actions import notify
from routecare.orgs.models import Membership, Route, RouteStop
from routecare.people.models import FollowUp, Person
from routecare.referrals.actions import Destination, send_referral
from routecare.sync.models import SyncConflict
from routecare.sync.nodes import create_enrolment_code, enroll

ALL_ROLES = {"volunteer", "coordinator", "focal_point", "partner", "regional", "sysadmin"}
# Who may pass each rule. Written out here, not derived from the access module, so a change
# to who may see what has to change this table too.
ALLOWED_ROLES = {
    Rule.PUBLIC: ALL_ROLES | {"anonymous"},
    Rule.SIGNED_IN: ALL_ROLES,
    Rule.PERSONAL_RECORDS: {"volunteer", "coordinator", "focal_point"},
    Rule.CARD_READING: {"volunteer", "coordinator", "focal_point", "partner"},
    Rule.DIRECTORY_EDITING: {"coordinator", "focal_point"},
    Rule.COORDINATION: {"coordinator", "focal_point"},
    Rule.ROUTE_OVERVIEW: {"coordinator", "focal_point", "regional"},
    Rule.DASHBOARDS: {"coordinator", "focal_point", "regional"},
    Rule.FEEDBACK: {"coordinator", "focal_point", "regional"},
    # Designated people only: none of the walk's personas is one (feedback/tests cover them).
    Rule.SAFEGUARDING: set(),
    Rule.HELPDESK: {"coordinator", "focal_point"},
    Rule.FAQ: {"volunteer", "coordinator", "focal_point", "partner", "regional"},
    Rule.FAQ_EDITING: {"coordinator", "focal_point", "regional"},
    Rule.FAQ_APPROVAL: {"focal_point", "regional"},
    Rule.CASH_ROUNDS: {"coordinator", "focal_point"},
    Rule.CASH_REVIEW: {"focal_point"},
    Rule.SOCIETY_ADMIN: {"focal_point"},
    Rule.SYSADMIN: {"sysadmin"},
    Rule.NODE: set(),  # a node credential, never a staff member
}
# Pages about objects that other societies of the network may see by design (a service point
# with network visibility); everything else of another society answers 404.
SHARED_IN_NETWORK = {
    "directory/<uuid:service_point_id>/",
    "directory/<uuid:service_point_id>/status/",
    # Alerts reach whole networks; regional staff see them all.
    "flows/alerts/<uuid:alert_id>/acknowledge/",
    # Routes belong to the network: both societies' points are on the walk's route.
    "flows/routes/<slug:slug>/",
    # The parameters name a table and a format of the caller's own dashboard, not an object.
    "indicators/export/<slug:table>.<slug:extension>",
    # The FAQ is the network's, shared by its societies.
    "faq/<uuid:entry_id>/",
    "faq/<uuid:entry_id>/edit/",
    "faq/<uuid:entry_id>/<str:what>/",
}
# Feedback is read by who handles it (a society's focal points, the coordinator it is assigned
# to, the IFRC cluster for RouteCare itself): others of the allowed roles get 404. Who sees
# which item is tested in feedback/tests.
HANDLERS_ONLY = {
    "feedback/<uuid:feedback_id>/",
    "feedback/<uuid:feedback_id>/<str:what>/",
    "/feedback/{feedback_id}",
    "/feedback/{feedback_id}/answer-sent",
    "/feedback/{feedback_id}/faq",
    "/feedback/{feedback_id}/link-faq",
    # Helpdesk conversations likewise (the protection queue: protection and safeguarding focal
    # points only; messaging/tests cover who sees which). "status" is no action: 404.
    "helpdesk/<uuid:conversation_id>/",
    "helpdesk/<uuid:conversation_id>/<str:what>/",
    # A kept file: 404 while none is kept (messaging/tests keep one).
    "helpdesk/media/<uuid:message_id>/",
}
# A field node's own pages: on a server (this test) they answer 404 to everyone signed in.
NODE_ONLY = {"sync/node/", "sync/node/sync-now/"}
# URL prefixes served by other mechanisms, each covered by its own test below.
DELEGATED_PREFIXES = ("admin/", "api/v1/")


@dataclass
class Persona:
    role: str
    society: str | None  # "own", "other" or None
    user: User | None


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _app_patterns() -> list[tuple[str, URLPattern]]:
    return [
        (route, pattern)
        for route, pattern in _walk(get_resolver().url_patterns)
        if not route.startswith(DELEGATED_PREFIXES)
    ]


def test_every_page_declares_an_access_rule(db: None) -> None:
    missing = [
        route
        for route, pattern in _app_patterns()
        if not isinstance(getattr(pattern.callback, "access_rule", None), Rule)
    ]
    assert missing == [], f"views without an access rule: {missing}"


def test_every_api_operation_declares_an_access_rule() -> None:
    missing = [
        f"{method} {path}"
        for path, method, view_func in _api_operations()
        if not isinstance(getattr(view_func, "access_rule", None), Rule)
    ]
    assert missing == [], f"API operations without an access rule: {missing}"


@pytest.fixture
def world(
    own: Society,
    other: Society,
    own_person: Person,
    other_person: Person,
    regional: User,
    sysadmin: User,
) -> dict[str, Any]:
    personas = [Persona("anonymous", None, None)]
    for name, society in (("own", own), ("other", other)):
        for role, attribute in (
            ("volunteer", "volunteer"),
            ("coordinator", "coordinator"),
            ("focal_point", "focal_point"),
            ("partner", "partner"),
        ):
            personas.append(Persona(role, name, getattr(society, attribute)))
    personas += [Persona("regional", None, regional), Persona("sysadmin", None, sysadmin)]
    objects = {}
    ensure_keys(own.society.network)
    route = Route.objects.create(network=own.society.network, slug="walk-route", name="Walk")
    for position, (point, hours) in enumerate(
        ((own.second_point, 0), (own.point, 3), (other.point, 5))
    ):
        RouteStop.objects.create(
            route=route, position=position, service_point=point, hours_from_previous=hours
        )
    record_daily_count(
        own.actor("coordinator", own.second_point), day=timezone.localdate(), people=10
    )
    for name, society, person in (("own", own, own_person), ("other", other, other_person)):
        issue_card(society.actor(), person)
        (notification,) = notify([society.volunteer], "walk", "/")
        alert = send_alert(
            society.actor("coordinator"),
            kind="closure",
            severity="info",
            message="walk",
            scope="societies",
            societies=[society.society],
        )
        referral = send_referral(
            society.actor(),
            person,
            destination=Destination(point=society.second_point),
            referral_type="health",
            service="water",
            reason="walk",
            fields=["allergies"],
            idempotency_key=f"walk-{name}",
        )
        token, _raw = create_api_token(society.volunteer, "walk", society.point)
        coordinator = society.actor("coordinator")
        item = stock.save_item(coordinator, society.point, kind="water", name="Water", level=9)
        transfer = stock.request_transfer(coordinator, kind="staff", quantity=2)
        trigger = triggers.save_trigger(
            society.actor("focal_point"), name="walk", metric=Metric.ARRIVALS_PER_STAFF,
            readiness=Decimal(1), activation=Decimal(2), service_point=society.point,
        )  # fmt: skip
        record_daily_count(
            coordinator, day=timezone.localdate(), people=30, new_arrivals=30, staff_on_duty=3
        )
        event = triggers.evaluate(trigger)
        assert event is not None
        conversation = _conversation(society, f"walk chat of {name}")
        feedback, _new = submit_feedback(
            about=About(society.society.network, society.society), category="question",
            text=f"walk question {name}", language="es",
            form_token=f"walk-feedback-{society.society.country_code}-00",
            contact_method="email", contact_value="walk@example.org", contact_consent=True,
        )  # fmt: skip
        answer = respond(society.actor("focal_point"), feedback, "walk answer")
        entry = approve_entry(
            society.actor("focal_point"),
            create_entry(
                society.actor("focal_point"), texts={"es": ("¿Paseo?", "Sí.")}, tags=["water"]
            ),
        )
        connection = connect_form(
            society.actor("focal_point"), name="walk", server_url="https://127.0.0.1:9",
            token="walk", asset_uid="aWalk", target="training",
            form_mapping={"title": "t", "topic": "p", "day": "d",
                          "attendance": {"repeat": "r", "role": "r/a", "sex": "r/s",
                                         "people": "r/n"}},
        )  # fmt: skip
        node = enroll(create_enrolment_code(society.actor("focal_point"), society.point), "walk")
        cash_round = create_round(
            society.actor("coordinator"),
            RoundInput(
                name=f"walk round of {name}", starts_on=timezone.localdate(),
                ends_on=timezone.localdate(), amount=Decimal(5), currency="USD",
                participant_ids=[society.society.pk],
            ),
        )  # fmt: skip
        cash_enrolment = enrol_person(
            society.actor(), cash_round, person, given_names="Walk", surnames="Person",
            birth_date=dt.date(1990, 1, 2), sex="female",
        )  # fmt: skip
        conflict = SyncConflict.objects.create(
            national_society=society.society, label="people.health_summary",
            record_id=person.pk, person_id=person.pk, field="allergies",
            server_value=["penicillin"], node_value=["latex"], node=node.node,
            change_id=uuid.uuid4(),
        )  # fmt: skip
        objects[name] = {
            "person_id": person.pk,
            "node_id": node.node.pk,
            "conflict_id": conflict.pk,
            "choice": "server",
            "follow_up_id": FollowUp.objects.get(person=person).pk,
            "service_point_id": society.point.pk,
            "membership_id": Membership.objects.get(user=society.volunteer).pk,
            "token_id": token.pk,
            "purpose": "messaging",
            "short_code": person.short_code,
            "lang": "fa",
            "referral_id": referral.pk,
            "notification_id": notification.pk,
            "alert_id": alert.pk,
            "token": "not-a-partner-token",
            "second_point_id": society.second_point.pk,
            "code": society.point.code,
            "slug": route.slug,
            "item_id": item.pk,
            "transfer_id": transfer.pk,
            "status": "cancelled",
            "event_id": event.pk,
            "connection_id": connection.pk,
            "table": "sex-age",
            "extension": "csv",
            "feedback_id": feedback.pk,
            "conversation_id": conversation.pk,
            "message_id": conversation.messages.get().pk,
            "reference": feedback.reference,
            "answer_id": answer.pk,
            "entry_id": entry.pk,
            "what": "status",
            "change": "retire",
            "country": society.society.country_code,
            "hsds_id": society.society.pk,
            "round_id": cash_round.pk,
            "enrolment_id": cash_enrolment.pk,
        }
    return {
        "personas": personas,
        "objects": objects,
        "societies": {"own": own, "other": other},
        "secrets": {
            "own": [
                own_person.short_code,
                "re-check dressing",
                "walk chat of own",
                "walk round of own",
            ],
            "other": [
                other_person.short_code,
                "other society follow-up",
                "walk chat of other",
                "walk round of other",
            ],
        },
    }


def _conversation(society: Society, text: str) -> Conversation:
    """A web chat conversation of the society, waiting for staff."""
    code = society.society.country_code.lower()
    channel = Channel.objects.create(
        national_society=society.society, kind=ChannelKind.WEB, slug=f"{code}-walk-chat"
    )
    contact = receiving.contact_for(channel, f"walk-{code}", "es")
    conversation = Conversation.objects.create(
        channel=channel, contact=contact, state=ConversationState.WAITING
    )
    Message.objects.create(
        channel=channel, contact=contact, conversation=conversation, direction="in",
        kind="text", body={"text": text}, status="answered",
    )  # fmt: skip
    return conversation


def _client(persona: Persona, world: dict[str, Any], *, for_api: bool) -> Client:
    if persona.user is None:
        return Client()
    point = None
    if persona.society is not None and persona.role != "partner":
        point = world["societies"][persona.society].point
    if for_api:
        return api_client(persona.user, point)
    return sign_in_client(persona.user, point)


def _fill(route: str, values: dict[str, Any]) -> str:
    url = "/" + route
    for key, value in values.items():
        for converter in ("uuid", "int", "str", "slug"):
            url = url.replace(f"<{converter}:{key}>", str(value))
        url = url.replace(f"<{key}>", str(value)).replace("{" + key + "}", str(value))
    assert "<" not in url, f"no test value for a parameter of {route}"
    assert "{" not in url, f"no test value for a parameter of {route}"
    return url


def _owners(route: str) -> list[str]:
    return ["own", "other"] if ("<" in route or "{" in route) else ["own"]


def _assert_no_leak(persona: Persona, body: bytes, world: dict[str, Any], where: str) -> None:
    visible_society = (
        persona.society if persona.role in ALLOWED_ROLES[Rule.PERSONAL_RECORDS] else None
    )
    for society, secrets in world["secrets"].items():
        if society == visible_society:
            continue
        for secret in secrets:
            assert secret.encode() not in body, (
                f"{persona.role}/{persona.society} saw {secret!r} at {where}"
            )


def test_pages_leak_nothing_to_any_role(world: dict[str, Any]) -> None:
    checked = 0
    for route, pattern in _app_patterns():
        rule: Rule = pattern.callback.access_rule  # type: ignore[attr-defined]
        for persona in world["personas"]:
            for owner in _owners(route):
                # Objects "own" and "other" are relative to the persona's society.
                relative = owner
                if persona.society == "other":
                    relative = "other" if owner == "own" else "own"
                url = _fill(route, world["objects"][relative])
                for method in ("get", "post"):
                    # A fresh session each time: signing out must not affect the next request.
                    client = _client(persona, world, for_api=False)
                    events_before = _events_about(world["objects"][relative]["person_id"])
                    response = getattr(client, method)(url)
                    where = f"{method.upper()} {url} as {persona.role}/{persona.society}"
                    status = response.status_code
                    assert status < 500, where
                    if rule is Rule.PUBLIC:
                        pass
                    elif persona.user is None:
                        assert status == 302, where
                        assert "/accounts/sign-in/" in response["Location"], where
                    elif persona.role not in ALLOWED_ROLES[rule]:
                        assert status == 403, where
                    elif owner == "other" and route in SHARED_IN_NETWORK:
                        assert status in (200, 302, 403, 404, 405), where
                    elif route in HANDLERS_ONLY:
                        assert status in (200, 302, 404, 405), where
                    elif route in NODE_ONLY:
                        assert status in (404, 405), where
                    elif owner == "other" or (
                        ("token_id" in route or "notification_id" in route)
                        and persona.role != "volunteer"
                    ):
                        # Other societies' objects, and other users' tokens and notifications,
                        # do not exist.
                        assert status in (404, 405), where
                    else:
                        assert status in (200, 302, 405), where
                        if "<uuid:person_id>" in route and method == "get" and status == 200:
                            # Every page about a person reads them, and every read is audited.
                            assert _events_about(world["objects"][relative]["person_id"]) > (
                                events_before
                            ), f"no audit event for {where}"
                    _assert_no_leak(persona, response.content, world, where)
                    checked += 1
    assert checked > 200


def _api_operations() -> Iterator[tuple[str, str, Any]]:
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    full = (prefix.rstrip("/") + "/" + path.lstrip("/")).rstrip("/") or "/"
                    yield full.replace("//", "/"), method, operation.view_func


# Public operations that need a secret in the body (a node's one-time enrolment code).
PUBLIC_WITH_SECRET = {"/sync/enroll"}

API_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/people"): {
        "sex": "female",
        "age_band": "18-59",
        "travel_group": "alone",
        "consents": ["care"],
    },
    ("POST", "/people/lookup"): {"code": "{short_code}"},
    ("PATCH", "/people/{person_id}/health-summary"): {"allergies": ["latex"]},
    ("POST", "/people/{person_id}/encounters"): {"services": [{"service": "water"}]},
    ("POST", "/people/{person_id}/follow-ups"): {"text": "walk"},
    ("POST", "/people/{person_id}/consents"): {"purpose": "messaging", "language": "es"},
    ("POST", "/people/{person_id}/card/revoke"): {"reason": "lost"},
    ("POST", "/cards/read"): {"text": "not a card"},
    ("PATCH", "/directory/service-points/{service_point_id}"): {"status": "open"},
    ("POST", "/people/{person_id}/referrals"): {
        "to_point_id": "{second_point_id}",
        "type": "health",
        "service": "water",
        "reason": "walk",
        "idempotency_key": "walk-api-key",
    },
    ("POST", "/referrals/{referral_id}/respond"): {"action": "accept"},
    # About the token's own point, not an object of one society or the other.
    ("POST", "/flows/counts"): {"day": timezone.localdate().isoformat(), "people": 3},
    ("POST", "/flows/alerts"): {"kind": "closure", "message": "walk", "scope": "network"},
    ("POST", "/flows/triggers"): {
        "name": "walk api",
        "metric": "forecast-24h",
        "readiness": 1,
        "activation": 2,
    },
    ("POST", "/flows/stock"): {"kind": "food", "name": "walk food"},
    ("POST", "/flows/stock/{item_id}/count"): {"level": 5},
    ("POST", "/flows/transfers"): {"kind": "staff", "quantity": 2},
    ("POST", "/public/feedback"): {
        "country": "{country}",
        "about": "general",
        "category": "praise",
        "text": "walk",
        "language": "fa",
        "form_token": "walk-feedback-{country}-00",
    },
    ("POST", "/public/feedback/answer"): {"reference": "{reference}"},
    ("POST", "/feedback"): {
        "about": "society:{country}",
        "category": "suggestion",
        "text": "walk",
        "language": "es",
        "form_token": "walk-staff-feedback-0",
    },
    ("POST", "/feedback/{feedback_id}"): {"status": "acknowledged", "note": "walk"},
    ("POST", "/feedback/{feedback_id}/answer-sent"): {"answer_id": "{answer_id}"},
    ("POST", "/feedback/{feedback_id}/link-faq"): {"faq_entry": "{entry_id}"},
    ("POST", "/faq"): {"texts": {"es": {"question": "¿Otro paseo?"}}, "tags": []},
    ("PUT", "/faq/{entry_id}"): {"texts": {"es": {"question": "¿Paseo?", "answer": "Sí."}}},
    ("POST", "/cash/rounds/{round_id}/enrolments"): {
        "person_id": "{person_id}",
        "given_names": "Walk",
        "surnames": "Person",
        "birth_date": "1990-01-02",
        "sex": "female",
    },
    ("POST", "/indicators/trainings"): {
        "title": "walk",
        "topic": "rfl",
        "day": timezone.localdate().isoformat(),
        "attendance": [["staff", "female", 1]],
    },
}
# Operations whose second call on the same object is refused as already done (422).
ONCE_ONLY = {
    ("POST", "/referrals/{referral_id}/respond"),
    ("POST", "/flows/transfers/{transfer_id}/{status}"),
    ("POST", "/flows/stock"),  # the same item name twice at one point
    ("PUT", "/faq/{entry_id}"),  # a retired entry is not edited again
    ("POST", "/cash/rounds/{round_id}/enrolments"),  # the walk's person is enrolled already
}
# Service points with network visibility are seen by the whole network by design; another
# society's point is read (200) but never changed (403).
API_SHARED_IN_NETWORK = {
    "/flows/alerts/{alert_id}/acknowledge",
    "/flows/routes/{slug}",
    "/directory/service-points/{service_point_id}",
    "/directory/service-points/{service_point_id}/next",
    "/faq",
    "/faq/{entry_id}",
    "/faq/{entry_id}/{change}",
    # Feedback may be about any society of the network (one behind the person on the route).
    "/feedback",
}
# Operations walked with input they must refuse (422): card reading has its own tests.
REFUSED_INPUT = {("POST", "/cards/read"), ("POST", "/cards/read-photo")}


def test_api_leaks_nothing_to_any_role(world: dict[str, Any]) -> None:
    checked = 0
    for path, method, view_func in _api_operations():
        rule: Rule = view_func.access_rule
        body_template = API_BODIES.get((method, path))
        refers_to_object = "{" in path or any("{" in str(v) for v in (body_template or {}).values())
        owners = ["own", "other"] if refers_to_object else ["own"]
        for persona in world["personas"]:
            for owner in owners:
                client = _client(persona, world, for_api=True)
                relative = owner
                if persona.society == "other":
                    relative = "other" if owner == "own" else "own"
                values = world["objects"][relative]
                url = _fill("api/v1" + path, values)
                body = json.loads(_fill_json(body_template, values)) if body_template else None
                events_before = _events_about(values["person_id"])
                response = client.generic(
                    method, url, json.dumps(body) if body is not None else "", "application/json"
                )
                where = f"{method} {url} as {persona.role}/{persona.society}"
                status = response.status_code
                assert status < 500, where
                if rule is Rule.PUBLIC and path in PUBLIC_WITH_SECRET:
                    assert status in (400, 422), where  # no valid one-time code in the body
                elif rule is Rule.PUBLIC:
                    assert status == 200, where
                elif persona.user is None or rule is Rule.NODE:
                    assert status == 401, where  # a staff token is no node credential
                elif persona.role not in ALLOWED_ROLES[rule]:
                    assert status == 403, where
                elif owner == "other" and path in API_SHARED_IN_NETWORK:
                    assert status in (200, 201, 403, 404, 422), where
                elif path in HANDLERS_ONLY:
                    assert status in (200, 201, 404, 422), f"{where}: {response.content[:300]!r}"
                elif owner == "other":
                    assert status == 404, where
                elif (method, path) in REFUSED_INPUT:
                    assert status == 422, f"{where}: {response.content[:300]!r}"
                elif (method, path) in ONCE_ONLY:
                    assert status in (200, 201, 422), f"{where}: {response.content[:300]!r}"
                else:
                    assert status in (200, 201), f"{where}: {response.content[:300]!r}"
                    if "person_id" in path or "short_code" in json.dumps(body_template):
                        # Every operation on a person reads or changes them: always audited.
                        assert _events_about(values["person_id"]) > events_before, where
                _assert_no_leak(persona, response.content, world, where)
                checked += 1
    assert checked > 100


def _events_about(person_id: uuid.UUID) -> int:
    return AuditEvent.objects.filter(person_id=person_id).count()


def _fill_json(template: dict[str, Any], values: dict[str, Any]) -> str:
    text = json.dumps(template)
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def test_admin_is_only_for_verified_system_administrators(world: dict[str, Any]) -> None:
    for persona in world["personas"]:
        response = _client(persona, world, for_api=False).get("/admin/")
        if persona.role == "sysadmin":
            assert response.status_code == 200
        else:
            assert response.status_code == 302
            assert "/admin/login/" in response["Location"]


def test_admin_does_not_expose_personal_records(world: dict[str, Any]) -> None:
    sysadmin = next(p for p in world["personas"] if p.role == "sysadmin")
    client = _client(sysadmin, world, for_api=False)
    assert client.get("/admin/people/person/").status_code == 404
    assert client.get("/admin/people/healthsummary/").status_code == 404
    assert client.get("/admin/orgs/servicepoint/").status_code == 200
