"""The worker's part of an inbound message: claim it once, let the engine answer, write the
answers, send them. A platform's retry or a task run twice answers once: the message moves
from received to answered in one conditional update, and only the run that moved it goes on.

What RouteCare sends back is rate-limited per contact (``OUTBOUND_PER_MINUTE``): a number
sending a thousand messages a minute has every message kept (staff see them) and the
conversation's state followed, but gets at most that many answers a minute, and nobody else's
messages wait behind a refusal (the platforms are never answered 429)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.db import transaction
from django.utils import timezone

from routecare.core import person_texts
from routecare.messaging import actions, engine, sending
from routecare.messaging.engine import Reply
from routecare.messaging.models import (
    Contact,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
    Queue,
)

log = logging.getLogger(__name__)

OUTBOUND_PER_MINUTE = 10


def _limited(message: Message, now: dt.datetime) -> bool:
    recent = Message.objects.filter(
        contact_id=message.contact_id,
        direction=Direction.OUTBOUND,
        created_at__gte=now - dt.timedelta(minutes=1),
    )
    return recent.count() >= OUTBOUND_PER_MINUTE


def _engine_answer(message: Message, conversation: Conversation, now: dt.datetime) -> Reply:
    """The engine's answer; if the engine fails, the person is not left without one: a
    person from the team takes over (and the failure is logged without the message)."""
    try:
        with transaction.atomic():
            return engine.answer(message, conversation, now)
    except Exception:
        log.exception("messaging: the bot failed on message %s; handed to staff", message.pk)
        conversation.refresh_from_db()  # what the failed turn changed was rolled back
        actions.hand_off(conversation, Queue.ORDINARY, now)
        return Reply([person_texts.text("bot_handoff", message.contact.language or "en")])


def answer_inbound(message_id: uuid.UUID, now: dt.datetime | None = None) -> str:
    """What happened, in a word (for the task's result): answered, limited, or already."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Message.objects.filter(
            pk=message_id, direction=Direction.INBOUND, status=DeliveryStatus.RECEIVED
        ).update(status=DeliveryStatus.ANSWERED)
        if not claimed:
            return "already"
        message = Message.objects.select_related(
            "contact", "channel__national_society__network"
        ).get(pk=message_id)
        # One message of a contact at a time: the next one starts from this one's step.
        contact = Contact.objects.select_for_update().get(pk=message.contact_id)
        message.contact = contact
        conversation = actions.open_conversation(contact, now)
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        conversation.last_message_at = now
        conversation.save(update_fields=["last_message_at"])
        message.conversation = conversation
        fields = ["conversation"]
        reply = _engine_answer(message, conversation, now)
        if message.kind == MessageKind.LOCATION:
            # Used to answer; never kept.
            message.body = {"location": True}
            fields.append("body")
        message.save(update_fields=fields)
        limited = _limited(message, now) and not reply.urgent
        outgoing = actions.release_held(contact)
        if not limited:
            outgoing += [sending.queue_text(contact, text, conversation) for text in reply.texts]
    for queued in outgoing:
        queued.contact, queued.channel = contact, message.channel
        sending.send(queued)
    return "limited" if limited and reply.texts else "answered"
