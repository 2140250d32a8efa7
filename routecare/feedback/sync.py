"""What the feedback app syncs from field nodes to the server (see routecare.sync.registry).

Feedback a staff member recorded at a node travels once, through ``submit_feedback`` as that
staff member: validation and routing are those of feedback recorded online (sensitive
feedback reaches the safeguarding focal points only, and that routing happens on the
server). It keeps the id, reference and time it was given at the node, since the person holds
the reference. Handling (status, notes, answers) happens where the handlers are, online:
nothing of it travels from a node.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.feedback import actions
from routecare.feedback.models import Channel, Feedback
from routecare.orgs.models import NationalSociety, Network, ServicePoint
from routecare.people.shortcode import ALPHABET
from routecare.sync.registry import Syncable, Values, register

FEEDBACK_FIELDS = (
    "about_society", "about_point", "category", "text", "language", "channel", "contact",
    "received_by", "reference", "submission_key", "created_at",
)  # fmt: skip
REFERENCE = re.compile(rf"^FB-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")
SUBMISSION_KEY = re.compile(r"^[0-9a-f]{64}$")


def serialize_feedback(item: Feedback) -> Values:
    return {
        "about_society": str(item.about_society_id) if item.about_society_id else None,
        "about_point": str(item.about_point_id) if item.about_point_id else None,
        "category": item.category,
        "text": str(item.text),
        "language": item.language,
        "channel": item.channel,
        "contact": item.contact or None,
        "received_by": str(item.received_by_id) if item.received_by_id else None,
        "reference": item.reference,
        "submission_key": item.submission_key,
        "created_at": item.created_at.isoformat(),
    }


def _about(actor: Actor, values: Values) -> actions.About:
    network = Network.objects.filter(pk=actor.network_id).first() if actor.network_id else None
    if network is None:
        raise ValidationError(_("Feedback is recorded within a network."))
    point_id, society_id = values.get("about_point"), values.get("about_society")
    try:
        if point_id:
            point = (
                ServicePoint.objects.filter(
                    pk=uuid.UUID(str(point_id)), national_society__network=network
                )
                .select_related("national_society")
                .first()
            )
            if point is not None:
                return actions.About(network, point.national_society, point)
        elif society_id:
            society = NationalSociety.objects.filter(
                pk=uuid.UUID(str(society_id)), network=network
            ).first()
            if society is not None:
                return actions.About(network, society)
        else:
            return actions.About(network)
    except ValueError:
        pass
    raise ValidationError({"about": _("Choose what the feedback is about from the list.")})


def _recorded(record_id: uuid.UUID, values: Values) -> actions.RecordedElsewhere:
    reference, key = values.get("reference"), values.get("submission_key")
    if not isinstance(reference, str) or not REFERENCE.match(reference):
        raise ValidationError({"reference": _("Not a feedback reference.")})
    if not isinstance(key, str) or not SUBMISSION_KEY.match(key):
        raise ValidationError({"submission_key": _("Send the form again from its page.")})
    try:
        created_at = dt.datetime.fromisoformat(str(values.get("created_at")))
    except ValueError as exc:
        raise ValidationError({"created_at": _("Not a date and time.")}) from exc
    if timezone.is_naive(created_at):
        raise ValidationError({"created_at": _("Not a date and time.")})
    # A node clock running ahead does not put feedback in the future.
    return actions.RecordedElsewhere(
        id=record_id, reference=reference, submission_key=key,
        created_at=min(created_at, timezone.now()),
    )  # fmt: skip


def create_feedback(actor: Actor, record_id: uuid.UUID, values: Values) -> Feedback:
    if values.get("channel") != Channel.STAFF:
        raise ValidationError({"channel": _("Only feedback recorded by staff travels.")})
    society = (
        NationalSociety.objects.filter(pk=actor.national_society_id).first()
        if actor.national_society_id
        else None
    )
    if society is None or str(values.get("received_by")) != str(society.pk):
        raise ValidationError({"received_by": _("Feedback is received by the node's society.")})
    if not isinstance(values.get("text"), str):
        raise ValidationError({"text": _("Write something first.")})
    contact: Any = values.get("contact") or {}
    if not isinstance(contact, dict):
        raise ValidationError({"contact_value": _("Write where to answer you.")})
    item, _new = actions.submit_feedback(
        about=_about(actor, values),
        category=str(values.get("category")),
        text=str(values["text"]),
        language=str(values.get("language")),
        form_token="",
        contact_method=str(contact.get("method") or ""),
        contact_value=str(contact.get("value") or ""),
        contact_consent=bool(contact),
        channel=Channel.STAFF,
        received_by=society,
        actor=actor,
        recorded=_recorded(record_id, values),
    )
    return item


register(
    Syncable(
        label="feedback.feedback", model=Feedback, fields=FEEDBACK_FIELDS,
        serialize=serialize_feedback, create=create_feedback,
        author=lambda item: str(item.recorded_by.get_username()) if item.recorded_by else "",
    )
)  # fmt: skip
