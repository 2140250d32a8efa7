"""Pre-registration: stored from the public form, used once at a point, deleted at expiry.

Every change goes through here: ``preregister`` (the person's own phone, no account),
``register_from_preregistration`` (a point, face to face: the person is registered with the
people app's own action and the pre-registration's data is deleted), ``purge_expired`` (the
periodic job).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.core import fields
from routecare.orgs.taxonomy import AgeBand, Service, Sex, age_band_for
from routecare.people import actions as people_actions
from routecare.people.models import ConsentPurpose, Person, TravelGroup
from routecare.preregistration import codes
from routecare.preregistration.models import PreRegistration
from routecare.preregistration.selectors import RefusedError, usable

VALIDITY = dt.timedelta(days=14)
# A form sent again this soon (a double tap, an answer lost on a slow line) shows its code
# again; later, only that it was sent (a kept page must not show someone else's code).
SHOWN_AGAIN_FOR = dt.timedelta(hours=1)
# The layers of consent a person gives on their own: sharing with partner organisations is
# asked at the point, where the partner is named.
PUBLIC_PURPOSES = (ConsentPurpose.CARE, ConsentPurpose.SHARE_NETWORK, ConsentPurpose.MESSAGING)
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
PHONE = re.compile(r"\+?[0-9][0-9 ().-]{5,30}")


@dataclass(frozen=True)
class Answers:
    """What a person enters on the public form; no name, no document number."""

    language: str  # the form's: the consents were read in it
    sex: str
    travel_group: str
    age_band: str = ""
    birth_year: int | None = None
    languages: Sequence[str] = ()
    services: Sequence[str] = ()
    consents: Sequence[str] = ()
    allergies: Sequence[str] = ()
    medicines: Sequence[str] = ()
    phone: str = ""


@dataclass(frozen=True)
class Submitted:
    code: str  # P-XXXX-XXX; empty when a form sent long ago is sent again
    expires_at: dt.datetime
    new: bool


def _choice(value: str, choices: Sequence[str], field: str) -> None:
    if value not in choices:
        raise ValidationError({field: _("“%(value)s” is not a valid choice.") % {"value": value}})


def check_answers(answers: Answers, now: dt.datetime) -> Answers:
    """The answers with the age band worked out from a birth year, or a ValidationError
    naming the first field that breaks its rule."""
    fields.LANGUAGE.check(answers.language, "language")
    _choice(answers.sex, Sex.values, "sex")
    _choice(answers.travel_group, TravelGroup.values, "travel_group")
    age_band = answers.age_band
    if answers.birth_year is not None:
        if not now.year - 110 <= answers.birth_year <= now.year:
            raise ValidationError({"birth_year": _("Enter a realistic birth year.")})
        age_band = age_band_for(now.year - answers.birth_year)
    if not age_band:
        raise ValidationError({"age_band": _("Give a birth year or an age band.")})
    _choice(age_band, AgeBand.values, "age_band")
    if len(answers.languages) > people_actions.MAX_LANGUAGES:
        raise ValidationError(
            {"languages": _("Give at most %(n)d languages.") % {"n": people_actions.MAX_LANGUAGES}}
        )
    for code in answers.languages:
        fields.LANGUAGE.check(code, "languages")
    for service in answers.services:
        _choice(service, Service.values, "services")
    for purpose in answers.consents:
        _choice(purpose, PUBLIC_PURPOSES, "consents")
    if ConsentPurpose.CARE not in answers.consents:
        raise ValidationError({"consents": _("Care consent is needed to keep a record.")})
    for name, definition in (("allergies", fields.ALLERGIES), ("medicines", fields.MEDICINE_NAMES)):
        problem = definition.problem(list(getattr(answers, name)))
        if problem is not None:
            raise ValidationError({name: problem})
    if answers.phone:
        fields.PHONE.check(answers.phone, "phone")
        if not PHONE.fullmatch(answers.phone):
            raise ValidationError({"phone": _("Write a phone number with its country code.")})
        if ConsentPurpose.MESSAGING not in answers.consents:
            raise ValidationError({"phone": _("A number is kept only to answer by message.")})
    return Answers(
        **{
            **asdict(answers),
            "age_band": age_band,
            "languages": list(dict.fromkeys(answers.languages)),
            "services": list(dict.fromkeys(answers.services)),
            "consents": list(dict.fromkeys(answers.consents)),
            "allergies": list(answers.allergies),
            "medicines": list(answers.medicines),
        }
    )


def new_form_token() -> str:
    """The one-time token of a form drawn by the server (register.js draws its own for a
    form kept offline)."""
    return secrets.token_urlsafe(24)


def per_hour() -> int:
    """Pre-registrations one connection may send in an hour (a flood creates nothing)."""
    return int(settings.ROUTECARE_PREREGISTRATIONS_PER_HOUR)


def already_sent(form_token: str) -> bool:
    """Whether a form token brought a pre-registration already (sent again: not counted)."""
    if not FORM_TOKEN.fullmatch(form_token) or not codes.available():
        return False
    digest = codes.submission_digest(form_token)
    return PreRegistration.objects.filter(submission_digest=digest).exists()


def preregister(answers: Answers, *, form_token: str, now: dt.datetime | None = None) -> Submitted:
    """Store a person's own registration, encrypted, for 14 days; its code. A form token
    sent again returns the same code (within ``SHOWN_AGAIN_FOR``) and stores nothing."""
    now = now or timezone.now()
    if not FORM_TOKEN.fullmatch(form_token):
        raise ValidationError({"form_token": _("The form expired. Send it again.")})
    answers = check_answers(answers, now)
    submission = codes.submission_digest(form_token)
    sent = PreRegistration.objects.filter(submission_digest=submission).first()
    if sent is not None:
        return _sent_again(sent, form_token, now)
    details = {
        "language": answers.language, "sex": answers.sex, "age_band": answers.age_band,
        "birth_year": answers.birth_year, "languages": answers.languages,
        "travel_group": answers.travel_group, "services": answers.services,
        "consents": answers.consents,
    }  # fmt: skip
    health = {"allergies": answers.allergies, "medicines": answers.medicines}
    for attempt in range(codes.MAX_ATTEMPTS):
        compact = codes.derive(form_token, attempt)
        try:
            with transaction.atomic():
                row = PreRegistration.objects.create(
                    code_digest=codes.digest(compact), submission_digest=submission,
                    details=details, health=health if any(health.values()) else None,
                    contact={"phone": answers.phone} if answers.phone else None,
                    created_at=now, expires_at=now + VALIDITY,
                )  # fmt: skip
        except IntegrityError:
            sent = PreRegistration.objects.filter(submission_digest=submission).first()
            if sent is not None:  # the same form, sent twice at once
                return _sent_again(sent, form_token, now)
            continue  # another form holds this code: the next draw
        return Submitted(codes.format_code(compact), row.expires_at, new=True)
    raise RuntimeError("no free pre-registration code")


def _sent_again(sent: PreRegistration, form_token: str, now: dt.datetime) -> Submitted:
    shown = sent.used_at is None and now - sent.created_at <= SHOWN_AGAIN_FOR
    for attempt in range(codes.MAX_ATTEMPTS):
        compact = codes.derive(form_token, attempt)
        if shown and codes.digest(compact) == sent.code_digest:
            return Submitted(codes.format_code(compact), sent.expires_at, new=False)
    return Submitted("", sent.expires_at, new=False)


def register_from_preregistration(
    actor: Actor,
    typed_code: str,
    *,
    registration: Mapping[str, Any],
    allergies: Sequence[str] = (),
    medicines: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> Person:
    """The person confirmed their pre-registration face to face: register them in the
    actor's society (``people.actions.register_person``, with ``registration`` as the
    volunteer confirmed it), keep the allergies and medicines they confirmed, and delete
    what the pre-registration held. Refused (``selectors.RefusedError``) if the code is not one,
    expired or was used; nothing is stored then."""
    now = now or timezone.now()
    people_actions.working_point(actor)
    with transaction.atomic():
        row = usable(typed_code, now, for_update=True)
        person = people_actions.register_person(actor, **registration)
        changes: dict[str, Any] = {}
        if allergies:
            changes["allergies"] = list(allergies)
        if medicines:
            changes["medicines"] = [{"name": name} for name in medicines]
        if changes:
            people_actions.update_health_summary(actor, person, **changes)
        row.details = row.health = row.contact = None
        row.used_at = now
        row.save(update_fields=["details", "health", "contact", "used_at"])
        record_event(
            actor, "change", "preregistration", row.pk, person_id=person.pk,
            fields=["used_at"], detail="used at the point; its data deleted",
        )  # fmt: skip
    return person


@transaction.atomic
def purge_expired(now: dt.datetime | None = None) -> str:
    """Delete the pre-registrations past their 14 days (the periodic job): those never used
    with all they held, those used with the digest kept to answer "already used"."""
    now = now or timezone.now()
    expired = PreRegistration.objects.filter(expires_at__lte=now)
    never_used = expired.filter(used_at__isnull=True).count()
    deleted, _by_model = expired.delete()
    return f"{deleted} expired pre-registrations deleted, {never_used} of them never used"


__all__ = ["Answers", "RefusedError", "Submitted", "preregister", "purge_expired"]
