"""Sending and answering referrals: consent-limited, audited, idempotent."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.core.fields import (
    PARTNER_NAME,
    REFERRAL_DUE,
    REFERRAL_EXPLANATION,
    REFERRAL_NOTE,
    REFERRAL_REASON,
)
from routecare.notifications.actions import notify
from routecare.orgs.models import Membership, NationalSociety, Role, ServicePoint
from routecare.orgs.taxonomy import Service, Urgency
from routecare.people.actions import require_care_consent, working_point
from routecare.people.models import ConsentPurpose, FollowUp, HealthSummary, Person
from routecare.people.selectors import active_consent_purposes
from routecare.referrals.models import (
    RESTRICTED_TYPES,
    Referral,
    ReferralResponse,
    ReferralStatus,
    ReferralType,
)
from routecare.referrals.tasks import schedule_expiry, schedule_reminder

# What may travel with a referral, field by field.
SHAREABLE_FIELDS = (
    "sex",
    "age_band",
    "birth_year",
    "languages",
    "nationality",
    "allergies",
    "conditions",
    "medicines",
    "pregnancy",
    "vulnerabilities",
    "open_follow_ups",
)


@dataclass(frozen=True)
class Destination:
    """Where a referral goes: a service point, a society's RFL focal points, or a partner."""

    point: ServicePoint | None = None
    society: NationalSociety | None = None
    partner_name: str = ""


def shareable_values(person: Person) -> dict[str, Any]:
    """Every field that could travel, with its current value (for the sender to choose)."""
    health = HealthSummary.objects.filter(person=person).first()
    follow_ups = FollowUp.objects.filter(person=person, done_at__isnull=True)
    return {
        "sex": person.sex,
        "age_band": person.age_band,
        "birth_year": person.birth_year,
        "languages": list(person.languages),
        "nationality": person.nationality,
        "allergies": list(health.allergies) if health else [],
        "conditions": list(health.conditions) if health else [],
        "medicines": [
            {"name": m.get("name"), "dose": m.get("dose", "")} for m in (health.medicines or [])
        ]
        if health
        else [],
        "pregnancy": health.pregnancy if health else None,
        "vulnerabilities": list(person.vulnerabilities or []),
        "open_follow_ups": [
            {"text": str(f.text), "due": f.due.isoformat() if f.due else None, "urgency": f.urgency}
            for f in follow_ups
        ],
    }


def _consent_needed(actor: Actor, destination: Destination) -> str | None:
    """The consent purpose a destination needs; None within the sender's own society."""
    if destination.partner_name:
        return ConsentPurpose.SHARE_PARTNERS
    society_id = destination.society.pk if destination.society else None
    if destination.point is not None:
        society_id = destination.point.national_society_id
    return None if society_id == actor.national_society_id else ConsentPurpose.SHARE_NETWORK


def _check_destination(actor: Actor, destination: Destination, referral_type: str) -> None:
    if destination.partner_name:
        if destination.point or destination.society:
            raise ValidationError({"destination": _("Choose one destination.")})
        return
    if destination.point is not None:
        point_society = destination.point.national_society
        if point_society.network_id != actor.network_id:
            raise ValidationError({"to_point": _("That service point is not in your network.")})
        if destination.point.status == ServicePoint.Status.CLOSED:
            raise ValidationError({"to_point": _("That service point is closed.")})
        if destination.point.visibility == ServicePoint.Visibility.INTERNAL and (
            point_society.pk != actor.national_society_id
        ):
            raise ValidationError({"to_point": _("That service point is not in your network.")})
        return
    if destination.society is None:
        raise ValidationError({"destination": _("Choose where to refer the person.")})
    if referral_type != ReferralType.RFL:
        raise ValidationError(
            {"to_point": _("Choose a service point; only family-links referrals go to a society.")}
        )
    if destination.society.network_id != actor.network_id:
        raise ValidationError({"to_society": _("That National Society is not in your network.")})


@transaction.atomic
def send_referral(
    actor: Actor,
    person: Person,
    *,
    destination: Destination,
    referral_type: str,
    service: str,
    reason: str,
    urgency: str = Urgency.ROUTINE,
    due: dt.date | None = None,
    fields: Sequence[str] = (),
    override_reason: str = "",
    service_warning_reason: str = "",
    idempotency_key: str,
    referral_id: uuid.UUID | None = None,
) -> Referral:
    """Send a referral with the chosen fields. Consent to share decides whether it may go
    beyond the society; only a focal point may override, with a written reason. A referral
    queued at a field node keeps the id it was given there (``referral_id``)."""
    point = working_point(actor, person)
    require_care_consent(person)
    if not 8 <= len(idempotency_key) <= 64:
        raise ValidationError({"idempotency_key": _("Send the form again from its page.")})
    existing = Referral.objects.filter(from_user=actor.user, idempotency_key=idempotency_key)
    if existing.exists():
        return existing.get()  # a double submit: the same referral, once
    if referral_type not in ReferralType.values:
        raise ValidationError({"type": _("Choose the type of referral.")})
    if referral_type in RESTRICTED_TYPES and not actor.protection:
        raise ValidationError(
            {"type": _("Only staff with a protection role send protection referrals.")}
        )
    if service not in Service.values:
        raise ValidationError({"service": _("Choose the service needed.")})
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": _("Choose the urgency.")})
    REFERRAL_REASON.check(reason, "reason")
    # A referral's own time is when it is sent.
    REFERRAL_DUE.check(due, timezone.now(), "due")
    PARTNER_NAME.check(destination.partner_name, "partner_name")
    REFERRAL_EXPLANATION.check(override_reason, "override_reason")
    REFERRAL_EXPLANATION.check(service_warning_reason, "service_warning_reason")
    unknown = set(fields) - set(SHAREABLE_FIELDS)
    if unknown:
        raise ValidationError({"fields": _("Unknown fields: %s") % ", ".join(sorted(unknown))})
    _check_destination(actor, destination, referral_type)
    if (
        destination.point is not None
        and service not in (destination.point.services or [])
        and not service_warning_reason.strip()
    ):
        raise ValidationError(
            {
                "service_warning_reason": _(
                    "That point does not list this service: say why you refer there anyway."
                )
            }
        )
    needed = _consent_needed(actor, destination)
    basis = "consent"
    if needed is not None and needed not in active_consent_purposes(person):
        if not override_reason.strip():
            raise ValidationError(
                {
                    "fields": _(
                        "The person has not agreed to share with %(whom)s: ask them, or a focal "
                        "point may override with a written reason."
                    )
                    % {
                        "whom": _("partner organisations")
                        if needed == ConsentPurpose.SHARE_PARTNERS
                        else _("other National Societies")
                    }
                }
            )
        if actor.role != Role.FOCAL_POINT:
            raise ValidationError(
                {"override_reason": _("Only a focal point may share beyond the person's consent.")}
            )
        basis = "override"
    values = shareable_values(person)
    shared = {name: values[name] for name in SHAREABLE_FIELDS if name in fields}
    to_society = destination.society
    if destination.point is not None:
        to_society = destination.point.national_society
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                id=referral_id or uuid.uuid4(),
                person=person,
                short_code=person.short_code,
                from_society_id=actor.society_id,
                from_point=point,
                from_user=actor.user,
                to_society=to_society,
                to_point=destination.point,
                partner_name=destination.partner_name.strip(),
                type=referral_type,
                service=service,
                reason=reason.strip(),
                urgency=urgency,
                due=due,
                shared=shared,
                consent_basis=basis,
                override_reason=override_reason.strip() or None if basis == "override" else None,
                override_by=actor.user if basis == "override" else None,
                service_warning_reason=service_warning_reason.strip() or None,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        return Referral.objects.get(from_user=actor.user, idempotency_key=idempotency_key)
    ReferralResponse.objects.create(
        referral=referral, by=actor.user, by_society_id=actor.society_id, status="sent"
    )
    urgent = referral.urgency != Urgency.ROUTINE
    notify(
        receivers(referral),
        _title(referral, _("Urgent referral") if urgent else _("New referral")),
        reverse("referrals:detail", args=[referral.pk]),
        urgent=urgent,
        email=True,
    )
    transaction.on_commit(lambda: schedule_expiry(referral))
    transaction.on_commit(lambda: schedule_reminder(referral))
    target = destination.point.code if destination.point else destination.partner_name or "RFL"
    record_event(
        actor,
        "share",
        "referral",
        referral.pk,
        person_id=person.pk,
        fields=sorted(shared),
        detail=f"to {target}" + (" (consent overridden)" if basis == "override" else ""),
    )
    return referral


TRANSITIONS: dict[str, tuple[str, ...]] = {
    "accept": (ReferralStatus.SENT,),
    "decline": (ReferralStatus.SENT, ReferralStatus.ACCEPTED),
    "complete": (ReferralStatus.ACCEPTED,),
    "withdraw": (ReferralStatus.SENT, ReferralStatus.ACCEPTED),
}
RESULT = {
    "accept": ReferralStatus.ACCEPTED,
    "decline": ReferralStatus.DECLINED,
    "complete": ReferralStatus.COMPLETED,
    "withdraw": ReferralStatus.WITHDRAWN,
}
NEEDS_NOTE = {"decline", "complete"}


@transaction.atomic
def respond(actor: Actor, referral: Referral, action: str, note: str = "") -> Referral:
    """Accept, decline (with a reason) or complete (with the outcome) as the receiver, or
    withdraw as the sender. ``referral`` comes from a selector that checked who holds it."""
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    receiving = locked.to_society_id == actor.national_society_id
    sending = locked.from_society_id == actor.national_society_id
    if (
        action not in TRANSITIONS
        or (action == "withdraw" and not sending)
        or (action != "withdraw" and not receiving)
    ):
        raise ValidationError({"action": _("That is not something you can do to this referral.")})
    if locked.status not in TRANSITIONS[action]:
        raise ValidationError(
            {
                "action": _("This referral is %(status)s already.")
                % {"status": locked.get_status_display()}
            }
        )
    if action in NEEDS_NOTE and not note.strip():
        raise ValidationError({"note": _("Give the reason or the outcome.")})
    REFERRAL_NOTE.check(note, "note")
    locked.status = RESULT[action]
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at"])
    ReferralResponse.objects.create(
        referral=locked,
        by=actor.user,
        by_society_id=actor.national_society_id,
        status=locked.status,
        note=note.strip() or None,
    )
    if action == "withdraw":
        notify(
            receivers(locked),
            _title(locked, _("Referral withdrawn")),
            reverse("referrals:detail", args=[locked.pk]),
        )
    else:
        _tell_sender(locked)
    record_event(
        actor,
        "change",
        "referral",
        locked.pk,
        person_id=locked.person_id if sending else None,
        fields=["status"],
        detail=f"{action}",
    )
    return locked


def expire_one(referral_id: uuid.UUID, today: dt.date | None = None) -> bool:
    """Expire a referral still unanswered after its due date; tell the sender."""
    today = today or timezone.now().date()
    with transaction.atomic():
        updated = Referral.objects.filter(
            pk=referral_id, status=ReferralStatus.SENT, due__lt=today
        ).update(status=ReferralStatus.EXPIRED, status_changed_at=timezone.now())
        if not updated:
            return False
        referral = Referral.objects.get(pk=referral_id)
        ReferralResponse.objects.create(referral=referral, status=ReferralStatus.EXPIRED)
        _tell_sender(referral)
    return True


def remind(referral_id: uuid.UUID) -> bool:
    """Remind the receivers of a referral still unanswered (run the day before it is due)."""
    referral = Referral.objects.filter(pk=referral_id, status=ReferralStatus.SENT).first()
    if referral is None:
        return False
    notify(
        receivers(referral),
        _title(referral, _("Referral due tomorrow")),
        reverse("referrals:detail", args=[referral.pk]),
        urgent=True,
        email=True,
    )
    return True


def expire_overdue(now: dt.datetime | None = None) -> int:
    """Every referral still unanswered after its due date expires (the worker also expires
    each one on its own the day after its due date)."""
    today = (now or timezone.now()).date()
    overdue = Referral.objects.filter(status=ReferralStatus.SENT, due__lt=today)
    return sum(expire_one(pk, today) for pk in overdue.values_list("pk", flat=True))


def receivers(referral: Referral) -> list[User]:
    """Staff of the receiving society who handle this referral: coordinators and focal
    points (and staff assigned to the receiving point); protection referrals only those with
    a protection role, family-links requests to a society only its RFL focal points."""
    if referral.to_society_id is None:
        return []
    members = Membership.objects.filter(national_society_id=referral.to_society_id).select_related(
        "user"
    )
    if referral.restricted:
        members = members.filter(protection=True)
    if referral.to_point_id is None and referral.type == ReferralType.RFL:
        members = members.filter(rfl_focal_point=True)
    else:
        members = members.filter(
            Q(role__in=[Role.COORDINATOR, Role.FOCAL_POINT])
            | Q(service_points=referral.to_point_id)
        )
    return [member.user for member in members.distinct() if member.user.is_active]


def _title(referral: Referral, what: str) -> str:
    """No personal data, and nothing at all about a protection referral's content."""
    if referral.restricted:
        return what
    return f"{what}: {referral.get_service_display()} ({referral.get_urgency_display()})"


def _tell_sender(referral: Referral) -> None:
    if referral.from_user is not None:
        notify(
            [referral.from_user],
            _title(referral, _("Referral %(status)s") % {"status": referral.get_status_display()}),
            reverse("referrals:detail", args=[referral.pk]),
            email=True,
        )
