"""What staff see of the helpdesk: the conversations of their society they may handle (the
rule is ``actions.may_handle``; the protection queue only for protection and safeguarding
focal points), one conversation with its messages, and the workload figures."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from routecare.access import Actor
from routecare.messaging.actions import HELPDESK_ROLES, handles_protection, may_handle
from routecare.messaging.models import (
    Contact,
    Conversation,
    ConversationNote,
    ConversationState,
    KeptMedia,
    Message,
    Queue,
)


def conversations(actor: Actor, state: str = "") -> QuerySet[Conversation]:
    if actor.role not in HELPDESK_ROLES or actor.national_society_id is None:
        return Conversation.objects.none()
    rows = Conversation.objects.filter(channel__national_society_id=actor.national_society_id)
    if not handles_protection(actor):
        rows = rows.exclude(queue=Queue.PROTECTION)
    if state in ConversationState.values:
        rows = rows.filter(state=state)
    return rows.select_related("channel", "assignee").order_by("-last_message_at", "-opened_at")


def conversation(actor: Actor, conversation_id: str | uuid.UUID) -> Conversation:
    try:
        pk = uuid.UUID(str(conversation_id))
    except ValueError:
        raise Http404 from None
    found = (
        Conversation.objects.select_related("channel", "contact", "assignee").filter(pk=pk).first()
    )
    if found is None or not may_handle(actor, found):
        raise Http404
    return found


def messages_of(actor: Actor, conversation_: Conversation) -> list[Message]:
    """The contact's messages since the conversation opened (held answers included)."""
    if not may_handle(actor, conversation_):
        raise Http404
    rows = Message.objects.filter(contact_id=conversation_.contact_id)
    if conversation_.state == ConversationState.RESOLVED:
        rows = rows.filter(conversation=conversation_)
    else:  # and what arrived since it opened, not yet answered by the worker
        rows = rows.filter(
            Q(conversation=conversation_)
            | Q(conversation=None, created_at__gte=conversation_.opened_at)
        )
    return list(rows.select_related("author").order_by("created_at"))


def message_in(actor: Actor, conversation_: Conversation, message_id: str) -> Message:
    """One message of a conversation the actor handles (to keep its medium)."""
    try:
        pk = uuid.UUID(message_id)
    except ValueError:
        raise Http404 from None
    found = next((m for m in messages_of(actor, conversation_) if m.pk == pk), None)
    if found is None:
        raise Http404
    return found


def message(actor: Actor, message_id: str | uuid.UUID) -> Message:
    """A message whose conversation the actor handles."""
    try:
        pk = uuid.UUID(str(message_id))
    except ValueError:
        raise Http404 from None
    found = Message.objects.select_related("conversation__channel", "channel").filter(pk=pk).first()
    if found is None or found.conversation is None or not may_handle(actor, found.conversation):
        raise Http404
    return found


def kept_in(thread: list[Message], now: dt.datetime | None = None) -> set[uuid.UUID]:
    """The messages of a thread (already read through ``messages_of``) whose medium is kept
    and may still be shown."""
    since = (now or timezone.now()) - dt.timedelta(days=7)
    return set(
        KeptMedia.objects.filter(message__in=thread, kept_at__gte=since).values_list(
            "message_id", flat=True
        )
    )


def notes_of(actor: Actor, conversation_: Conversation) -> list[ConversationNote]:
    if not may_handle(actor, conversation_):
        raise Http404
    return list(conversation_.notes.select_related("author"))


@dataclass(frozen=True)
class Workload:
    by_state: dict[str, int]
    # Median minutes from asking for a person to staff's first answer, over 30 days.
    median_first_reply_minutes: float | None


def workload(actor: Actor, now: dt.datetime) -> Workload:
    rows = conversations(actor)
    by_state = {state: rows.filter(state=state).count() for state in ConversationState.values}
    pairs = rows.filter(
        handed_off_at__gte=now - dt.timedelta(days=30), first_reply_at__isnull=False
    ).values_list("handed_off_at", "first_reply_at")
    minutes = sorted(
        (reply - asked).total_seconds() / 60 for asked, reply in pairs if asked and reply
    )
    median = minutes[len(minutes) // 2] if minutes else None
    return Workload(by_state, median)


@dataclass(frozen=True)
class HeldMessages:
    """What the helpdesk holds of a person (a contact linked to them), for their report."""

    channel: str  # the kind: whatsapp, telegram, web
    count: int
    first: dt.datetime
    last: dt.datetime


def held_messages(person_id: uuid.UUID) -> list[HeldMessages]:
    """Called by the data-subject report's selector, which has checked the actor."""
    held = []
    for contact in Contact.objects.filter(person_id=person_id).select_related("channel"):
        times = list(contact.messages.order_by("created_at").values_list("created_at", flat=True))
        if times:
            held.append(HeldMessages(contact.channel.kind, len(times), times[0], times[-1]))
    return held
