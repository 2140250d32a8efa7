"""What the referrals app syncs from field nodes to the server (see routecare.sync.registry).

A referral made at a node while offline is queued there: it travels, and is *sent* on the
server when applied, through ``send_referral`` as the staff member who made it (consent, the
protection role, the destination and the notifications are those of an online referral; the
shared fields are taken again from the server's record of the person, which arrived first).
Answers given at the node (accept, decline, complete for a referral to its point; withdraw
for one its society sent) travel as changes of its ``answer`` (the status and the note that
gives it, one value: a reason to decline goes with the decline), applied through ``respond`` after
the same selector an online answer goes through, so a protection referral stays with staff
holding a protection role. The same referral answered differently in two places is a conflict
for a coordinator (field merge), never last-write-wins.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.people.models import Person
from routecare.referrals import actions, selectors
from routecare.referrals.models import OPEN_STATUSES, Referral, ReferralResponse, ReferralStatus
from routecare.sync.registry import Relevance, Syncable, Values, register, register_relevance

REFERRAL_FIELDS = (
    "person", "to_point", "to_society", "partner_name", "type", "service", "reason", "urgency",
    "due", "fields", "override_reason", "service_warning_reason", "idempotency_key", "answer",
)  # fmt: skip
# The status a node's answer gives, and the answer (``respond``) that gives it.
ANSWERS: dict[str, str] = {
    ReferralStatus.ACCEPTED: "accept",
    ReferralStatus.DECLINED: "decline",
    ReferralStatus.COMPLETED: "complete",
    ReferralStatus.WITHDRAWN: "withdraw",
}
# Once sent, only its answer changes.
CHANGEABLE = frozenset({"answer"})


def _latest_response(referral: Referral) -> ReferralResponse | None:
    return (
        ReferralResponse.objects.filter(referral=referral, status=referral.status)
        .order_by("-at")
        .first()
    )


def serialize_referral(referral: Referral) -> Values:
    response = _latest_response(referral)
    return {
        "person": str(referral.person_id),
        "to_point": str(referral.to_point_id) if referral.to_point_id else None,
        "to_society": str(referral.to_society_id) if referral.to_society_id else None,
        "partner_name": referral.partner_name,
        "type": referral.type,
        "service": referral.service,
        "reason": str(referral.reason or ""),
        "urgency": referral.urgency,
        "due": referral.due.isoformat() if referral.due else None,
        "fields": sorted(referral.shared or {}),
        "override_reason": str(referral.override_reason or ""),
        "service_warning_reason": str(referral.service_warning_reason or ""),
        "idempotency_key": referral.idempotency_key,
        "answer": {
            "status": referral.status,
            "note": str(response.note or "") if response is not None else "",
        },
    }


def _author(referral: Referral) -> str:
    response = ReferralResponse.objects.filter(referral=referral, by__isnull=False).order_by("-at")
    latest = response.select_related("by").first()
    user = latest.by if latest is not None else referral.from_user
    return str(user.get_username()) if user is not None else ""


def _person(actor: Actor, person_id: Any) -> Person:
    """The person referred, of the actor's own society only."""
    try:
        person = Person.objects.filter(
            pk=uuid.UUID(str(person_id)), national_society_id=actor.national_society_id
        ).first()
    except ValueError:
        person = None
    if person is None:
        raise ValidationError(_("No such person in this National Society."))
    return person


def _by_id(model: Any, value: Any, name: str) -> Any:
    if value in (None, ""):
        return None
    try:
        found = model.objects.filter(pk=uuid.UUID(str(value))).first()
    except ValueError:
        found = None
    if found is None:
        raise ValidationError({name: _("No such destination.")})
    return found


def _text(values: Values, name: str) -> str:
    value = values.get(name) or ""
    if not isinstance(value, str):
        raise ValidationError({name: _("Must be text.")})
    return value


def create_referral(actor: Actor, record_id: uuid.UUID, values: Values) -> Referral:
    """Send, on the server, the referral queued at the node (then answer it as the node did,
    a withdrawal say, when it changed before it travelled)."""
    person = _person(actor, values.get("person"))
    try:
        due = dt.date.fromisoformat(str(values["due"])) if values.get("due") else None
    except ValueError as exc:
        raise ValidationError({"due": _("Not a date.")}) from exc
    chosen = values.get("fields") or []
    if not isinstance(chosen, list) or not all(isinstance(name, str) for name in chosen):
        raise ValidationError({"fields": _("Fields must be a list of names.")})
    referral = actions.send_referral(
        actor,
        person,
        destination=actions.Destination(
            point=_by_id(ServicePoint, values.get("to_point"), "to_point"),
            society=_by_id(NationalSociety, values.get("to_society"), "to_society")
            if not values.get("to_point")
            else None,
            partner_name=_text(values, "partner_name"),
        ),
        referral_type=str(values.get("type")),
        service=str(values.get("service")),
        reason=_text(values, "reason"),
        urgency=str(values.get("urgency")),
        due=due,
        fields=chosen,
        override_reason=_text(values, "override_reason"),
        service_warning_reason=_text(values, "service_warning_reason"),
        idempotency_key=_text(values, "idempotency_key"),
        referral_id=record_id,
    )
    answer = values.get("answer")
    if isinstance(answer, dict) and answer.get("status", ReferralStatus.SENT) != referral.status:
        _answer(actor, referral, values)
    return referral


def update_referral(actor: Actor, referral: Referral, values: Values) -> Referral:
    changed = set(values) - CHANGEABLE
    if changed:
        raise ValidationError(
            {"status": _("Once sent, only a referral's status changes: %s cannot.")
             % ", ".join(sorted(changed))}
        )  # fmt: skip
    answer = values.get("answer")
    if isinstance(answer, dict) and answer.get("status") == referral.status:
        return referral  # answered so already (a coordinator keeping the server's answer)
    return _answer(actor, referral, values)


def _answer(actor: Actor, referral: Referral, values: Values) -> Referral:
    answer = values.get("answer")
    if not isinstance(answer, dict):
        raise ValidationError({"answer": _("An answer is a status and a note.")})
    action = ANSWERS.get(str(answer.get("status")))
    if action is None:
        raise ValidationError(
            {
                "status": _("A node cannot give a referral the status “%s”.")
                % str(answer.get("status"))
            }
        )
    # The selector every online answer goes through: a protection referral only for staff
    # with a protection role, only a referral the actor's society sent or received.
    found = selectors.get_referral(actor, referral.pk)
    point = actor.service_point
    from_node = actor.via == "sync"  # online (resolving a conflict), the society's rules only
    if from_node and action != "withdraw" and (point is None or found.to_point_id != point.pk):
        raise ValidationError(
            {"status": _("A node answers the referrals addressed to its own point.")}
        )
    return actions.respond(actor, found, action, _text(answer, "note"))


def _open_to(point_id: uuid.UUID) -> QuerySet[Referral]:
    # Only the people of the point's own society: another society's person is known to the
    # receiver through what the referral shares, never as a record.
    return Referral.objects.filter(
        to_point_id=point_id,
        status__in=OPEN_STATUSES,
        person__national_society__service_points=point_id,
    )


def _people_referred_to(point_id: uuid.UUID, now: dt.datetime) -> QuerySet[Any]:
    return _open_to(point_id).values_list("person_id", flat=True).order_by()


def _newly_referred_to(point_id: uuid.UUID, since: dt.datetime) -> QuerySet[Any]:
    return (
        _open_to(point_id)
        .filter(created_at__gt=since)
        .values_list("person_id", flat=True)
        .order_by()
        .distinct()
    )


register(
    Syncable(
        label="referrals.referral", model=Referral, fields=REFERRAL_FIELDS,
        serialize=serialize_referral, create=create_referral, update=update_referral,
        parents=lambda record_id, values: [("people.person", str(values.get("person")))],
        person_field="person_id", author=_author,
    )
)  # fmt: skip
register_relevance(Relevance(all=_people_referred_to, new=_newly_referred_to))
