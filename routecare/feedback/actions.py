"""Changes to feedback: submitting it (public, staff, messaging), routing it to who handles
it, and handling it. Every change by staff is audited; texts never go into notifications."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.core import fields
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.feedback.models import (
    Category,
    Channel,
    ContactMethod,
    Feedback,
    FeedbackNote,
    FeedbackResponse,
    Status,
)
from routecare.notifications.actions import notify
from routecare.orgs.models import Membership, NationalSociety, Network, Role, ServicePoint
from routecare.people.shortcode import ALPHABET

MAX_TEXT = fields.FEEDBACK_TEXT.max_length
MAX_NOTE = fields.FEEDBACK_NOTE.max_length
REFERENCE_SYMBOLS = 8


@dataclass(frozen=True)
class About:
    """What feedback is about: a point (and its society), a society, or RouteCare itself."""

    network: Network
    society: NationalSociety | None = None
    point: ServicePoint | None = None


def parse_about(network: Network, raw: str, *, public_only: bool) -> About:
    """``point:<code>``, ``society:<country code>`` or ``general``, within the network."""
    kind, _sep, value = (raw or "").partition(":")
    if kind == "general" and not value:
        return About(network)
    if kind == "society":
        society = NationalSociety.objects.filter(network=network, country_code=value).first()
        if society is not None:
            return About(network, society)
    if kind == "point":
        points = ServicePoint.objects.filter(code=value, national_society__network=network)
        if public_only:
            points = points.filter(visibility=ServicePoint.Visibility.PUBLIC)
        point = points.select_related("national_society").first()
        if point is not None:
            return About(network, point.national_society, point)
    raise ValidationError({"about": _("Choose what the feedback is about from the list.")})


def _clean_text(text: str, field: str, definition: fields.Text) -> str:
    if not (text or "").strip():
        raise ValidationError({field: _("Write something first.")})
    # As typed: stripping would drop some control characters (Python counts U+001C-U+001F
    # as white space) and keep the others.
    return definition.check(text, field).strip()


def _contact(method: str, value: str, consent: bool) -> dict[str, str] | None:
    method, value = (method or "").strip(), (value or "").strip()
    if not consent:
        if value:
            raise ValidationError(
                {
                    "contact_consent": _(
                        "Tick the box to agree to be answered, or leave the contact empty."
                    )
                }
            )
        return None
    if method not in ContactMethod.values:
        raise ValidationError({"contact_method": _("Choose how to answer you.")})
    if not value:
        raise ValidationError({"contact_value": _("Write where to answer you.")})
    fields.CONTACT_VALUE.check(value, "contact_value")
    if method == ContactMethod.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError({"contact_value": _("That is not an email address.")}) from None
    elif method == ContactMethod.TELEGRAM and value.startswith("@"):
        if not value[1:].replace("_", "").isalnum():
            raise ValidationError({"contact_value": _("That is not a Telegram username.")})
    else:
        digits = value.replace(" ", "").replace("-", "")
        if not (digits.startswith("+") and digits[1:].isdigit() and 7 <= len(digits) <= 17):
            raise ValidationError(
                {
                    "contact_value": _(
                        "Write the number with its country code, e.g. +381 60 123 4567."
                    )
                }
            )
    return {"method": method, "value": value}


def _reference() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_SYMBOLS))
    return f"FB-{symbols[:4]}-{symbols[4:]}"


@dataclass(frozen=True)
class RecordedElsewhere:
    """Feedback a staff member recorded at a field node: the person holds its reference."""

    id: uuid.UUID
    reference: str
    submission_key: str
    created_at: dt.datetime


def submission_key(form_token: str) -> str:
    token = (form_token or "").strip()
    if not 16 <= len(token) <= 128:
        raise ValidationError({"form_token": _("The form expired: open it again.")})
    return hashlib.sha256(token.encode()).hexdigest()


def already_submitted(form_token: str) -> Feedback | None:
    """The item a form token already brought, if any (a resend is answered, not counted)."""
    try:
        key = submission_key(form_token)
    except ValidationError:
        return None
    return Feedback.objects.filter(submission_key=key).first()


def submit_feedback(
    *,
    about: About,
    category: str,
    text: str,
    language: str,
    form_token: str,
    contact_method: str = "",
    contact_value: str = "",
    contact_consent: bool = False,
    channel: str = Channel.WEB,
    received_by: NationalSociety | None = None,
    actor: Actor | None = None,
    recorded: RecordedElsewhere | None = None,
) -> tuple[Feedback, bool]:
    """Store feedback and route it; (the item, whether it is new). The same form sent twice
    (a double tap, a reload on a slow line) is stored once. Feedback recorded at a field node
    keeps what the person was given there (``recorded``: its id, reference and time)."""
    if category not in Category.values:
        raise ValidationError({"category": _("Choose what kind of feedback it is.")})
    text = _clean_text(text, "text", fields.FEEDBACK_TEXT)
    if language not in PERSON_LANGUAGES:
        raise ValidationError({"language": _("Unknown language.")})
    contact = _contact(contact_method, contact_value, contact_consent)
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    key = recorded.submission_key if recorded else submission_key(form_token)
    existing = Feedback.objects.filter(submission_key=key).first()
    if existing is not None:
        return existing, False
    if recorded is not None and Feedback.objects.filter(reference=recorded.reference).exists():
        raise ValidationError({"reference": _("That reference belongs to other feedback.")})
    for _attempt in range(5):
        try:
            with transaction.atomic():
                item = Feedback.objects.create(
                    id=recorded.id if recorded else uuid.uuid4(),
                    created_at=recorded.created_at if recorded else timezone.now(),
                    reference=recorded.reference if recorded else _reference(),
                    network=about.network, about_society=about.society,
                    about_point=about.point, category=category, text=text, language=language,
                    channel=channel, contact=contact, received_by=received_by,
                    recorded_by=actor.user if actor else None, submission_key=key,
                )  # fmt: skip
                if actor is not None:
                    record_event(actor, "create", "feedback", item.pk, fields=["text"])
                transaction.on_commit(lambda item=item: _route(item))  # type: ignore[misc]
                return item, True
        except IntegrityError:
            existing = Feedback.objects.filter(submission_key=key).first()
            if existing is not None:  # the same form, sent twice at once
                return existing, False
            if recorded is not None:  # its reference was taken meanwhile
                raise ValidationError(
                    {"reference": _("That reference belongs to other feedback.")}
                ) from None
    raise RuntimeError("no free feedback reference after five tries")


def handlers(item: Feedback) -> QuerySet[User]:
    """Who an item goes to. Sensitive: the safeguarding focal points of the society concerned
    and of the network's IFRC cluster, no one else. Otherwise the society's focal points, or
    the IFRC cluster for feedback about RouteCare itself."""
    cluster = Q(role=Role.REGIONAL, network_id=item.network_id)
    if item.sensitive:
        society = Q(
            role__in=(Role.FOCAL_POINT, Role.COORDINATOR),
            national_society_id=item.about_society_id,
        )
        who = (cluster | society if item.about_society_id else cluster) & Q(safeguarding=True)
    elif item.about_society_id is None:
        who = cluster
    else:
        who = Q(role=Role.FOCAL_POINT, national_society_id=item.about_society_id)
    return User.objects.filter(
        is_active=True, membership__in=Membership.objects.filter(who)
    ).distinct()


def _route(item: Feedback) -> None:
    path = reverse("feedback:detail", args=[item.pk])
    if item.sensitive:
        notify(handlers(item), _("Sensitive feedback to handle (safeguarding)"), path,
               urgent=True, email=True)  # fmt: skip
    else:
        notify(handlers(item), _("New feedback: %(category)s") % {
            "category": Category(item.category).label}, path)  # fmt: skip


def may_handle(actor: Actor, item: Feedback) -> bool:
    """The one rule for handling an item (selectors list by the same rule)."""
    return _handles(
        actor.role, actor.national_society_id, actor.network_id, actor.safeguarding, item,
        assigned=item.assignee_id == actor.user_id,
    )  # fmt: skip


def _handles(
    role: str,
    society_id: Any,
    network_id: Any,
    safeguarding: bool,
    item: Feedback,
    *,
    assigned: bool,
) -> bool:
    if item.sensitive:
        if not safeguarding:
            return False
        if role == Role.REGIONAL:
            return bool(network_id == item.network_id)
        return role in (Role.FOCAL_POINT, Role.COORDINATOR) and (
            item.about_society_id is not None and society_id == item.about_society_id
        )
    if item.about_society_id is None:
        return role == Role.REGIONAL and network_id == item.network_id
    if society_id != item.about_society_id:
        return False
    return role == Role.FOCAL_POINT or (role == Role.COORDINATOR and assigned)


def _require_handler(actor: Actor, item: Feedback) -> None:
    if not may_handle(actor, item):
        raise PermissionError("not a handler of this feedback")


ORDER = [Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED]


@transaction.atomic
def change_status(actor: Actor, item: Feedback, status: str) -> Feedback:
    """Forward through new → acknowledged → in progress → resolved / closed; a resolved or
    closed item may be taken up again (in progress). Times are kept for the figures."""
    _require_handler(actor, item)
    if status not in Status.values or status == Status.NEW:
        raise ValidationError({"status": _("Choose a status after new.")})
    now = timezone.now()
    item.status = status
    if item.acknowledged_at is None:
        item.acknowledged_at = now
    if status == Status.RESOLVED and item.resolved_at is None:
        item.resolved_at = now
    if status == Status.CLOSED and item.closed_at is None:
        item.closed_at = now
    if status == Status.IN_PROGRESS:
        item.resolved_at = item.closed_at = None
    item.save(update_fields=["status", "acknowledged_at", "resolved_at", "closed_at"])
    record_event(actor, "change", "feedback", item.pk, fields=["status"], detail=status)
    return item


@transaction.atomic
def assign(actor: Actor, item: Feedback, assignee: User | None) -> Feedback:
    """Give the item to a colleague who may handle it (a coordinator of the society, say)."""
    _require_handler(actor, item)
    if assignee is not None:
        membership = Membership.objects.filter(user=assignee, user__is_active=True).first()
        if membership is None or not _handles(
            membership.role, membership.national_society_id, membership.network_id,
            membership.safeguarding, item, assigned=True,
        ):  # fmt: skip
            raise ValidationError({"assignee": _("That person cannot handle this feedback.")})
    item.assignee = assignee
    item.save(update_fields=["assignee"])
    record_event(actor, "change", "feedback", item.pk, fields=["assignee"])
    if assignee is not None and assignee.pk != actor.user_id:
        notify(
            [assignee], _("Feedback assigned to you"), reverse("feedback:detail", args=[item.pk])
        )
    return item


@transaction.atomic
def add_note(actor: Actor, item: Feedback, text: str) -> FeedbackNote:
    _require_handler(actor, item)
    note = FeedbackNote.objects.create(
        feedback=item, author=actor.user, text=_clean_text(text, "text", fields.FEEDBACK_NOTE)
    )
    record_event(actor, "create", "feedback_note", note.pk, detail=str(item.pk))
    return note


@transaction.atomic
def respond(actor: Actor, item: Feedback, text: str) -> FeedbackResponse:
    """Answer the person: shown with their receipt; emailed when they gave an email address,
    otherwise sent by staff the way the person chose, then marked sent."""
    _require_handler(actor, item)
    if not item.contact:
        raise ValidationError(
            {
                "text": _(
                    "The person left no way to answer them: they read the answer with their "
                    "reference."
                )
            }
        )
    response = FeedbackResponse.objects.create(
        feedback=item, author=actor.user, text=_clean_text(text, "text", fields.FEEDBACK_ANSWER)
    )
    record_event(actor, "create", "feedback_response", response.pk, detail=str(item.pk))
    contact: dict[str, Any] = item.contact
    if contact.get("method") == ContactMethod.EMAIL:
        transaction.on_commit(lambda: _email(response.pk, contact["value"], item.reference))
    return response


def _email(response_id: int, address: str, reference: str) -> None:
    response = FeedbackResponse.objects.get(pk=response_id)
    send_mail(f"Red Cross / Red Crescent: {reference}", str(response.text), None, [address])
    FeedbackResponse.objects.filter(pk=response_id).update(sent_at=timezone.now())


@transaction.atomic
def mark_response_sent(actor: Actor, response: FeedbackResponse) -> FeedbackResponse:
    _require_handler(actor, response.feedback)
    if response.sent_at is None:
        response.sent_at = timezone.now()
        response.save(update_fields=["sent_at"])
        record_event(actor, "change", "feedback_response", response.pk, fields=["sent_at"])
    return response
