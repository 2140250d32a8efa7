"""The floor: the SQL statements RouteCare runs for an audited lookup and an encounter write,
sent by hand with the database driver.

The statements below were captured from real requests (``CaptureQueriesContext`` around
``POST /api/v1/people/lookup`` and ``POST /api/v1/people/{id}/encounters`` as the bench sends
them, 2026-12-04) and written down with their values as parameters. Nothing else stands
between the request and the database: no ninja, no pydantic, no ORM, no selectors or actions,
no signals; the answer is a ``json.dumps`` of the API's shape. What is left is the least any
implementation of these two requests must do, which makes the time of a floor request the
honest denominator of RouteCare's overhead (docs/benchmarks.md, "The floor").

Per request, once the token is known:

- lookup: ``SELECT`` the person by society and short code; ``INSERT`` the audit event (in
  autocommit, as RouteCare: one statement, one implicit transaction).
- write: ``SELECT`` the person's id by society and id (only what the write reads);
  ``SELECT`` a care consent not withdrawn;
  then in one transaction ``INSERT`` the encounter, its service lines and the audit event,
  ``COMMIT`` (an encounter, created once and never changed, has no sync version row: nodes
  pull new ones by ``recorded_at``). The encounter's row says whether its stock is still to be
  taken (``stock_pending``: the point's stock follows one of its services, as read once per
  ``FOLLOWED_SECONDS``); the stock itself is taken later, for many encounters at once, by the
  worker (``flows.stock_use.take_waiting``), not in the request, on either side.

The token is checked as RouteCare checks it: the token's row (user, role, society, point,
assignments) read once and kept in this process for ``ACTOR_SECONDS``, and the token-failure
refusal read once per client and ``CLEAR_SECONDS``; on the timed requests both are answered
from memory, as RouteCare's are.

Rows are real: a floor write commits an encounter with a fresh id and its service lines and
audit event, exactly as RouteCare would (its stock waiting as RouteCare's
does). The audit events say ``bench floor`` in ``detail`` (a bound value, the statement is
the same) so the audit trail tells them apart from RouteCare's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from routecare.access import RECORD_ROLES
from routecare.accounts.actions import ACTOR_SECONDS, LAST_USED_RESOLUTION, TOKEN_PREFIX
from routecare.api import TOKEN_FAILURES_PER_HOUR
from routecare.core.crypto import keyring
from routecare.core.ratelimit import CLEAR_SECONDS
from routecare.flows.stock_use import FOLLOWED_SECONDS
from routecare.orgs.models import Role, ServicePoint
from routecare.orgs.taxonomy import Service, TriageColour
from routecare.people import shortcode

# What the floor's audit events carry in ``detail``.
FLOOR_DETAIL = "bench floor"
FLOOR_LOOKUP_DETAIL = "bench floor lookup"
REFUSAL_SCOPE = "api-token-failure"
SERVICES = frozenset(Service.values)
TRIAGES = frozenset(TriageColour.values)

# -- the statements ------------------------------------------------------------------------
# Quoted identifiers and %s placeholders: the same text runs on SQLite and PostgreSQL. Where
# the two differ it is in the values (UUIDs as 32 hex digits on SQLite, native on
# PostgreSQL; datetimes as naive UTC text on SQLite), bound by ``_Values`` below.

RATE_REFUSED = (
    'SELECT 1 AS "a" FROM "core_ratewindow" WHERE ("core_ratewindow"."client" = %s AND '
    '"core_ratewindow"."scope" = %s AND "core_ratewindow"."window_start" = %s AND '
    '"core_ratewindow"."count" >= %s) LIMIT 1'
)
# RouteCare's reads the token, user, membership and point whole; the floor only what the
# check needs, with the same joins and the same two assignment subqueries.
ACTOR_BY_DIGEST = (
    'SELECT "accounts_apitoken"."user_id", "auth_user"."username", "auth_user"."is_active", '
    '"orgs_membership"."role", "orgs_membership"."national_society_id", '
    '"accounts_apitoken"."service_point_id", "orgs_servicepoint"."national_society_id", '
    '"orgs_servicepoint"."status", "orgs_servicepoint"."code", "accounts_apitoken"."expires_at", '
    '"accounts_apitoken"."last_used_at", "accounts_apitoken"."id", '
    'EXISTS(SELECT 1 AS "a" FROM "orgs_membership_service_points" U0 '
    'WHERE U0."membership_id" = ("orgs_membership"."id") LIMIT 1) AS "has_assignments", '
    'EXISTS(SELECT 1 AS "a" FROM "orgs_membership_service_points" U0 '
    'WHERE (U0."membership_id" = ("orgs_membership"."id") '
    'AND U0."servicepoint_id" = ("accounts_apitoken"."service_point_id")) LIMIT 1) '
    'AS "assigned_here" '
    'FROM "accounts_apitoken" INNER JOIN "auth_user" '
    'ON ("accounts_apitoken"."user_id" = "auth_user"."id") '
    'LEFT OUTER JOIN "orgs_membership" ON ("auth_user"."id" = "orgs_membership"."user_id") '
    'LEFT OUTER JOIN "orgs_servicepoint" '
    'ON ("accounts_apitoken"."service_point_id" = "orgs_servicepoint"."id") '
    'WHERE ("accounts_apitoken"."digest" = %s AND "accounts_apitoken"."revoked_at" IS NULL) '
    "LIMIT 21"
)
MARK_USED = 'UPDATE "accounts_apitoken" SET "last_used_at" = %s WHERE "accounts_apitoken"."id" = %s'
_PERSON = (
    'SELECT "people_person"."id", "people_person"."national_society_id", '
    '"people_person"."short_code", "people_person"."alias", "people_person"."sex", '
    '"people_person"."birth_year", "people_person"."age_band", "people_person"."nationality", '
    '"people_person"."languages", "people_person"."population_group", '
    '"people_person"."travel_group", "people_person"."household_id", '
    '"people_person"."vulnerabilities", "people_person"."registered_at_point_id", '
    '"people_person"."registered_by_id", "people_person"."created_at", '
    '"orgs_servicepoint"."code" AS "registered_at_point_code" '
    'FROM "people_person" INNER JOIN "orgs_servicepoint" '
    'ON ("people_person"."registered_at_point_id" = "orgs_servicepoint"."id") '
    'WHERE ("people_person"."national_society_id" = %s AND "people_person"."{key}" = %s) '
    'ORDER BY "people_person"."id" ASC LIMIT 1'
)
PERSON_BY_CODE = _PERSON.format(key="short_code")
# The write reads only the person's id and society (people.selectors.person_to_record).
PERSON_TO_RECORD = (
    'SELECT "people_person"."id", "people_person"."national_society_id" FROM "people_person" '
    'WHERE ("people_person"."national_society_id" = %s AND "people_person"."id" = %s) '
    'ORDER BY "people_person"."id" ASC LIMIT 1'
)
CARE_CONSENT = (
    'SELECT 1 AS "a" FROM "people_consent" WHERE ("people_consent"."person_id" = %s AND '
    '"people_consent"."purpose" = %s AND "people_consent"."withdrawn_at" IS NULL) LIMIT 1'
)
ENCOUNTER = (
    'INSERT INTO "people_encounter" ("id", "person_id", "service_point_id", "recorded_by_id", '
    '"occurred_at", "recorded_at", "triage", "notes", "corrects_id", "voids", "stock_pending") '
    "VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, NULL, %s, %s) "
    'RETURNING "people_encounter"."voids", "people_encounter"."stock_pending"'
)
SERVICE_LINES = (
    'INSERT INTO "people_encounterservice" ("encounter_id", "service", "quantity") VALUES '
    '{rows} RETURNING "people_encounterservice"."id"'
)
# Before the transaction, as RouteCare's ``flows.stock_use`` does: the services the point's stock
# follows (kept FOLLOWED_SECONDS), which say whether the encounter's stock waits.
FOLLOWED_SERVICES = (
    'SELECT "flows_stockitem"."service" FROM "flows_stockitem" WHERE '
    '("flows_stockitem"."service_point_id" = %s AND NOT ("flows_stockitem"."service" = %s))'
)
AUDIT = (
    'INSERT INTO "audit_auditevent" ("id", "at", "actor_id", "actor_username", '
    '"national_society_id", "service_point_id", "action", "object_type", "object_id", '
    '"person_id", "fields", "detail", "via") '
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


class FloorError(Exception):
    """A request the floor answers with an error status instead of a result."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class FloorActor:
    user_id: int
    username: str
    national_society_id: uuid.UUID
    service_point_id: uuid.UUID
    service_point_code: str
    expires_at: dt.datetime | None


class _Values:
    """Python values as the current database's driver takes and gives them."""

    def __init__(self) -> None:
        self.native_uuid = connection.features.has_native_uuid_field

    def id(self, value: uuid.UUID) -> Any:
        return value if self.native_uuid else value.hex

    def when(self, value: dt.datetime) -> Any:
        return connection.ops.adapt_datetimefield_value(value)

    @staticmethod
    def read_uuid(value: Any) -> uuid.UUID | None:
        if value is None or isinstance(value, uuid.UUID):
            return value
        return uuid.UUID(str(value))

    @staticmethod
    def read_when(value: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite without a declared-type converter
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:  # SQLite keeps UTC without its offset
            value = value.replace(tzinfo=dt.UTC)
        return value  # type: ignore[no-any-return]

    @staticmethod
    def read_json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str | bytes) else value


# -- the token -------------------------------------------------------------------------------
# Kept per process for as long as RouteCare keeps its own answers (ACTOR_SECONDS, CLEAR_SECONDS):
# what is compared is the work of a request, not two caching policies.
_actors: dict[str, tuple[float, FloorActor | None]] = {}
_refusals: dict[str, tuple[float, bool]] = {}
_followed: dict[uuid.UUID, tuple[float, frozenset[str]]] = {}


def forget_tokens() -> None:
    """Drop what this process remembers of tokens, refusals and followed stock (tests)."""
    _actors.clear()
    _refusals.clear()
    _followed.clear()


def _refused(cursor: CursorWrapper, values: _Values, address: str) -> bool:
    found = _refusals.get(address)
    if found is not None and found[0] > time.monotonic():
        return found[1]
    epoch = int(time.time())
    window = dt.datetime.fromtimestamp(epoch - epoch % 3600, tz=dt.UTC)
    message = f"{REFUSAL_SCOPE}|{address}|{window.isoformat()}".encode()
    client = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    cursor.execute(
        RATE_REFUSED,
        [client, REFUSAL_SCOPE, values.when(window), TOKEN_FAILURES_PER_HOUR],
    )
    refused = cursor.fetchone() is not None
    _refusals[address] = (time.monotonic() + CLEAR_SECONDS, refused)
    return refused


def _read_actor(cursor: CursorWrapper, values: _Values, digest: str) -> FloorActor | None:
    cursor.execute(ACTOR_BY_DIGEST, [digest])
    row = cursor.fetchone()
    if row is None:
        return None
    (user_id, username, is_active, role, society, point, point_society, status, point_code,
     expires_at, last_used_at, token_id, has_assignments, assigned_here) = row  # fmt: skip
    now = dt.datetime.now(tz=dt.UTC)
    expires = values.read_when(expires_at)
    if not is_active or role not in RECORD_ROLES or society is None or point is None:
        return None
    if expires is not None and expires <= now:
        return None
    last_used = values.read_when(last_used_at)
    if last_used is None or now - last_used > LAST_USED_RESOLUTION:
        cursor.execute(MARK_USED, [values.when(now), token_id])
    works_here = (
        values.read_uuid(point_society) == values.read_uuid(society)
        and status != ServicePoint.Status.CLOSED
        and (role == Role.FOCAL_POINT or not has_assignments or bool(assigned_here))
    )
    if not works_here:
        return None
    society_id, point_id = values.read_uuid(society), values.read_uuid(point)
    if society_id is None or point_id is None:
        return None
    return FloorActor(
        user_id=user_id,
        username=username,
        national_society_id=society_id,
        service_point_id=point_id,
        service_point_code=str(point_code),
        expires_at=expires,
    )


def authenticate(cursor: CursorWrapper, values: _Values, header: str, address: str) -> FloorActor:
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.startswith(TOKEN_PREFIX):
        raise FloorError(401, "Unauthorized")
    if _refused(cursor, values, address):
        raise FloorError(429, "Too many attempts")
    digest = hashlib.sha256(raw.encode()).hexdigest()
    found = _actors.get(digest)
    if found is None or found[0] <= time.monotonic():
        found = (time.monotonic() + ACTOR_SECONDS, _read_actor(cursor, values, digest))
        _actors[digest] = found
    actor = found[1]
    if actor is None or (
        actor.expires_at is not None and actor.expires_at <= dt.datetime.now(tz=dt.UTC)
    ):
        raise FloorError(401, "Unauthorized")
    return actor


# -- the two requests ------------------------------------------------------------------------


def _person_out(row: tuple[Any, ...]) -> dict[str, Any]:
    (pk, _society, short_code, alias, sex, birth_year, age_band, nationality, languages,
     population_group, travel_group, household, vulnerabilities, _point, _by, created_at,
     point_code) = row  # fmt: skip
    # The two encrypted columns: what RouteCare's field decrypts on every read, done here.
    ring = keyring()
    return {
        "id": _Values.read_uuid(pk),
        "short_code": short_code,
        "alias": None if alias is None else json.loads(ring.decrypt(alias, "people_person.alias")),
        "sex": sex,
        "birth_year": birth_year,
        "age_band": age_band,
        "nationality": nationality,
        "languages": _Values.read_json(languages),
        "travel_group": travel_group,
        "population_group": population_group,
        "household_id": _Values.read_uuid(household),
        "vulnerabilities": json.loads(
            ring.decrypt(vulnerabilities, "people_person.vulnerabilities")
        ),
        "registered_at_point": point_code,
        "created_at": _Values.read_when(created_at),
    }


def _audit(
    cursor: CursorWrapper,
    values: _Values,
    actor: FloorActor,
    event: tuple[str, str, str, uuid.UUID],
    fields: list[str],
    detail: str,
) -> None:
    action, object_type, object_id, person_id = event
    cursor.execute(
        AUDIT,
        [
            values.id(uuid.uuid4()),
            values.when(dt.datetime.now(tz=dt.UTC)),
            actor.user_id,
            actor.username,
            values.id(actor.national_society_id),
            values.id(actor.service_point_id),
            action,
            object_type,
            object_id,
            values.id(person_id),
            json.dumps(sorted(fields)),
            detail,
            "api",
        ],
    )


def lookup(header: str, address: str, body: bytes) -> dict[str, Any]:
    """``POST /api/v1/people/lookup`` for an exact short code: the person and one audit event.
    (RouteCare also offers near matches for a mistyped code; the bench never sends one.)"""
    values = _Values()
    with connection.cursor() as cursor:
        actor = authenticate(cursor, values, header, address)
        typed = _json_object(body).get("code")
        compact = shortcode.normalise(typed) if isinstance(typed, str) else None
        if compact is None or not shortcode.is_valid(compact):
            raise FloorError(404, "Not Found")
        cursor.execute(
            PERSON_BY_CODE,
            [values.id(actor.national_society_id), shortcode.format_code(compact)],
        )
        row = cursor.fetchone()
        if row is None:
            raise FloorError(404, "Not Found")
        person = _person_out(row)
        event = ("read", "person", str(person["id"]), person["id"])
        _audit(cursor, values, actor, event, [], FLOOR_LOOKUP_DETAIL)
    return {"person": person, "suggestions": []}


def _services(body: dict[str, Any]) -> tuple[list[tuple[str, int]], str]:
    """The bench's body (services and a triage colour), checked as the API's schema does."""
    services = body.get("services")
    triage = body.get("triage") or ""
    if set(body) - {"services", "triage"} or not isinstance(services, list):
        raise FloorError(422, "The floor takes services and triage only.")
    lines: list[tuple[str, int]] = []
    for line in services[:31]:
        if not isinstance(line, dict):
            raise FloorError(422, "Each service is an object.")
        code, quantity = line.get("service"), line.get("quantity", 1)
        if code not in SERVICES or type(quantity) is not int or not 1 <= quantity <= 10000:
            raise FloorError(422, "Unknown service or quantity out of 1 to 10000.")
        lines.append((str(code), quantity))
    if not 1 <= len(lines) <= 30 or (triage and triage not in TRIAGES):
        raise FloorError(422, "One to 30 services and a known triage colour.")
    return lines, str(triage)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        found = json.loads(body)
    except ValueError as exc:
        raise FloorError(400, "The body is not JSON.") from exc
    if not isinstance(found, dict):
        raise FloorError(422, "The body is not a JSON object.")
    return found


def write(header: str, address: str, person_id: uuid.UUID, body: bytes) -> dict[str, Any]:
    """``POST /api/v1/people/{id}/encounters`` with services and a triage colour."""
    values = _Values()
    with connection.cursor() as cursor:
        actor = authenticate(cursor, values, header, address)
        services, triage = _services(_json_object(body))
        cursor.execute(
            PERSON_TO_RECORD, [values.id(actor.national_society_id), values.id(person_id)]
        )
        if cursor.fetchone() is None:
            raise FloorError(404, "Not Found")
        cursor.execute(CARE_CONSENT, [values.id(person_id), "care"])
        if cursor.fetchone() is None:
            raise FloorError(422, "Care consent was withdrawn.")
        stock_pending = not _followed_at(cursor, values, actor.service_point_id).isdisjoint(
            code for code, _quantity in services
        )
        encounter_id, now = uuid.uuid4(), dt.datetime.now(tz=dt.UTC)
        with transaction.atomic():
            cursor.execute(
                ENCOUNTER,
                [
                    values.id(encounter_id),
                    values.id(person_id),
                    values.id(actor.service_point_id),
                    actor.user_id,
                    values.when(now),
                    values.when(now),
                    triage,
                    False,
                    stock_pending,
                ],
            )
            voids = bool(cursor.fetchone()[0])
            rows = ", ".join(["(%s, %s, %s)"] * len(services))
            params: list[Any] = []
            for code, quantity in services:
                params += [values.id(encounter_id), code, quantity]
            cursor.execute(SERVICE_LINES.format(rows=rows), params)
            cursor.fetchall()
            event = ("create", "encounter", str(encounter_id), person_id)
            _audit(cursor, values, actor, event, ["services", "triage"], FLOOR_DETAIL)
    return {
        "id": encounter_id,
        "service_point": actor.service_point_code,
        "occurred_at": now,
        "services": [{"service": code, "quantity": quantity} for code, quantity in services],
        "triage": triage,
        "notes": None,
        "corrects_id": None,
        "voids": voids,
    }


def _followed_at(cursor: CursorWrapper, values: _Values, point_id: uuid.UUID) -> frozenset[str]:
    """The services the point's stock follows, read once per ``FOLLOWED_SECONDS``."""
    found = _followed.get(point_id)
    if found is None or found[0] <= time.monotonic():
        cursor.execute(FOLLOWED_SERVICES, [values.id(point_id), ""])
        services_followed = frozenset(str(row[0]) for row in cursor.fetchall())
        found = (time.monotonic() + FOLLOWED_SECONDS, services_followed)
        _followed[point_id] = found
    return found[1]
