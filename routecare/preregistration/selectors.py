"""Reading a pre-registration: only by a point, with the code the person shows, audited.

There is no list of pre-registrations anywhere: a row is found only by the keyed digest of its
code (``codes.digest``), so nobody reads one before a point opens it with the person.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.preregistration import codes
from routecare.preregistration.models import PreRegistration

# Why a code opens nothing: ``codes.Problem`` values, and these.
UNKNOWN = "unknown"
EXPIRED = "expired"
USED = "used"


class RefusedError(Exception):
    """The code opens no pre-registration; ``reason`` says why (for the volunteer)."""

    def __init__(self, reason: str, expired_at: dt.datetime | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired_at = expired_at


@dataclass(frozen=True)
class Opened:
    """A pre-registration as the volunteer sees it, to confirm with the person."""

    id: uuid.UUID
    code: str
    expires_at: dt.datetime
    language: str
    sex: str
    age_band: str
    birth_year: int | None
    travel_group: str
    languages: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    consents: list[str] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    medicines: list[str] = field(default_factory=list)
    phone: str = ""


def usable(typed_code: str, now: dt.datetime, *, for_update: bool = False) -> PreRegistration:
    """The pre-registration of a typed or scanned code, if it may still be used."""
    try:
        compact = codes.parse(typed_code)
    except codes.CodeError as error:
        raise RefusedError(error.problem.value) from None
    rows = PreRegistration.objects.filter(code_digest=codes.digest(compact))
    row = (rows.select_for_update() if for_update else rows).first()
    if row is None:
        raise RefusedError(UNKNOWN)
    if row.used_at is not None:
        raise RefusedError(USED)
    if row.expires_at <= now:
        raise RefusedError(EXPIRED, row.expires_at)
    return row


def open_by_code(actor: Actor, typed_code: str, now: dt.datetime | None = None) -> Opened:
    """What the person entered, for the volunteer of a point to confirm with them."""
    if not actor.handles_personal_records:
        raise PermissionError("this role does not handle personal records")
    row = usable(typed_code, now or timezone.now())
    details: dict[str, Any] = row.details or {}
    health: dict[str, Any] = row.health or {}
    contact: dict[str, Any] = row.contact or {}
    record_event(
        actor, "read", "preregistration", row.pk,
        fields=sorted([*details, *(name for name, value in health.items() if value), *contact]),
    )  # fmt: skip
    return Opened(
        id=row.pk,
        code=codes.format_code(codes.parse(typed_code)),
        expires_at=row.expires_at,
        language=str(details.get("language", "en")),
        sex=str(details.get("sex", "")),
        age_band=str(details.get("age_band", "")),
        birth_year=details.get("birth_year"),
        travel_group=str(details.get("travel_group", "")),
        languages=list(details.get("languages", [])),
        services=list(details.get("services", [])),
        consents=list(details.get("consents", [])),
        allergies=list(health.get("allergies", [])),
        medicines=list(health.get("medicines", [])),
        phone=str(contact.get("phone", "")),
    )
