"""Changes of a conversation's state: the bot's hand-offs, and what staff do from the inbox
(assign, reply, note, resolve, erase). Staff actions are audited; the bot's are not (no staff
member acted). Who may handle a conversation is decided once, in ``may_handle``."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.messaging import sending
from routecare.messaging.models import (
    ChannelKind,
    Contact,
    Conversation,
    ConversationNote,
    ConversationState,
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
    Queue,
)
from routecare.notifications.actions import notify
from routecare.orgs.models import Membership, Role
from routecare.people.selectors import person_with_code

MAX_REPLY = 4096
HELPDESK_ROLES = (Role.FOCAL_POINT, Role.COORDINATOR)


def open_conversation(contact: Contact, now: dt.datetime | None = None) -> Conversation:
    """The contact's open conversation, or a new one with the bot."""
    found = Conversation.objects.filter(contact=contact).exclude(state=ConversationState.RESOLVED)
    conversation = found.first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                channel_id=contact.channel_id, contact=contact, last_message_at=now
            )
    except IntegrityError:  # opened meanwhile by a simultaneous message
        return found.get()


def _designated(society_id: object) -> Q:
    """The society's protection and safeguarding focal points; where it has designated none
    yet, its focal points (a person in danger is never left to nobody)."""
    helpdesk = Q(role__in=HELPDESK_ROLES, national_society_id=society_id)
    designated = helpdesk & (Q(protection=True) | Q(safeguarding=True))
    if Membership.objects.filter(designated, user__is_active=True).exists():
        return designated
    return Q(role=Role.FOCAL_POINT, national_society_id=society_id)


def handlers(conversation: Conversation) -> QuerySet[User]:
    """Who is told a conversation waits: the society's focal points and coordinators; for
    the protection queue only the designated ones (``_designated``)."""
    society_id = conversation.channel.national_society_id
    if conversation.queue == Queue.PROTECTION:
        who = _designated(society_id)
    else:
        who = Q(role__in=HELPDESK_ROLES, national_society_id=society_id)
    return User.objects.filter(
        is_active=True, membership__in=Membership.objects.filter(who)
    ).distinct()


def handles_protection(actor: Actor) -> bool:
    """Whether the actor sees their society's protection queue."""
    if actor.national_society_id is None or actor.role not in HELPDESK_ROLES:
        return False
    if actor.protection or actor.safeguarding:
        return True
    fallback = _designated(actor.national_society_id)
    return Membership.objects.filter(fallback, user_id=actor.user_id).exists()


def may_handle(actor: Actor, conversation: Conversation) -> bool:
    """The one rule of the inbox (``selectors.conversations`` lists by the same)."""
    if actor.role not in HELPDESK_ROLES:
        return False
    if actor.national_society_id != conversation.channel.national_society_id:
        return False
    return conversation.queue != Queue.PROTECTION or handles_protection(actor)


def _locked(conversation: Conversation) -> Conversation:
    """The conversation as it is now, locked until the transaction ends: the bot and staff
    change it from different processes."""
    return (
        Conversation.objects.select_for_update()
        .select_related("channel", "contact")
        .get(pk=conversation.pk)
    )


def _require(actor: Actor, conversation: Conversation) -> None:
    if not may_handle(actor, conversation):
        raise PermissionDenied


def hand_off(conversation: Conversation, queue: str, now: dt.datetime) -> Conversation:
    """The bot gives the conversation to staff. Danger moves it to the protection queue
    even from an ordinary colleague's hands (who then no longer sees it)."""
    moved_to_protection = queue == Queue.PROTECTION and conversation.queue != Queue.PROTECTION
    if conversation.state == ConversationState.BOT or moved_to_protection:
        conversation.state = ConversationState.WAITING
        conversation.handed_off_at = conversation.handed_off_at or now
        if moved_to_protection:
            conversation.queue = Queue.PROTECTION
            conversation.assignee = None
        conversation.save(update_fields=["state", "handed_off_at", "queue", "assignee"])
        path = reverse("messaging:conversation", args=[conversation.pk])
        if conversation.queue == Queue.PROTECTION:
            notify(handlers(conversation), _("Helpdesk: a person may be in danger (protection)"),
                   path, urgent=True, email=True)  # fmt: skip
        else:
            notify(handlers(conversation), _("Helpdesk: a person asks to talk to someone"), path)
    return conversation


@transaction.atomic
def assign(actor: Actor, conversation: Conversation, assignee: User | None) -> Conversation:
    conversation = _locked(conversation)
    _require(actor, conversation)
    if assignee is not None:
        membership = Membership.objects.filter(user=assignee).first()
        allowed = (
            membership is not None
            and membership.role in HELPDESK_ROLES
            and membership.national_society_id == conversation.channel.national_society_id
            and (
                conversation.queue != Queue.PROTECTION
                or Membership.objects.filter(
                    _designated(conversation.channel.national_society_id), pk=membership.pk
                ).exists()
            )
        )
        if not allowed:
            raise ValidationError({"assignee": _("This person cannot handle this conversation.")})
    conversation.assignee = assignee
    if conversation.state != ConversationState.RESOLVED:
        conversation.state = ConversationState.ASSIGNED if assignee else ConversationState.WAITING
    conversation.save(update_fields=["assignee", "state"])
    record_event(actor, "assign", "conversation", conversation.pk)
    return conversation


def _clean(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the answer.")})
    if len(text) > MAX_REPLY:
        raise ValidationError({"text": _("At most %(n)s characters.") % {"n": MAX_REPLY}})
    return text


@transaction.atomic
def reply(actor: Actor, conversation: Conversation, text: str) -> Message:
    """Staff answer the person. On WhatsApp after 24 hours without a message from them, only
    an approved template may be sent: it is sent, and the answer is held until they reply."""
    conversation = _locked(conversation)
    _require(actor, conversation)
    text = _clean(text)
    if conversation.state == ConversationState.RESOLVED:
        raise ValidationError({"text": _("This conversation is resolved.")})
    contact = conversation.contact
    held = conversation.channel.kind == ChannelKind.WHATSAPP and not sending.window_open(contact)
    message = Message.objects.create(
        channel_id=conversation.channel_id, contact=contact, conversation=conversation,
        author=actor.user, direction=Direction.OUTBOUND, kind=MessageKind.TEXT,
        body={"text": text}, status=DeliveryStatus.HELD if held else DeliveryStatus.QUEUED,
    )  # fmt: skip
    to_send = [message]
    if held and not _template_waiting(contact):
        to_send = [
            sending.queue_template(
                contact, settings.ROUTECARE_WHATSAPP_ANSWER_TEMPLATE, contact.language or "en",
                conversation=conversation,
            )
        ]  # fmt: skip
    elif held:
        to_send = []
    now = timezone.now()
    conversation.first_reply_at = conversation.first_reply_at or now
    conversation.last_message_at = now
    if conversation.assignee_id is None:
        conversation.assignee = actor.user
    conversation.state = ConversationState.ASSIGNED
    conversation.save(update_fields=["first_reply_at", "last_message_at", "assignee", "state"])
    record_event(actor, "reply", "conversation", conversation.pk)
    sending.send_later(to_send)
    return message


def _template_waiting(contact: Contact) -> bool:
    """A template already went since the person's last message: one is enough."""
    since = contact.last_inbound_at or contact.created_at
    return Message.objects.filter(
        contact=contact, direction=Direction.OUTBOUND, created_at__gt=since,
        kind=MessageKind.TEMPLATE, status__in=(
            DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED,
            DeliveryStatus.READ,
        ),
    ).exists()  # fmt: skip


def release_held(contact: Contact) -> list[Message]:
    """The person wrote again: staff answers held by the 24-hour window go now."""
    held = list(
        Message.objects.filter(contact=contact, status=DeliveryStatus.HELD).order_by("created_at")
    )
    for message in held:
        message.status = DeliveryStatus.QUEUED
        message.save(update_fields=["status"])
    return held


@transaction.atomic
def add_note(actor: Actor, conversation: Conversation, text: str) -> ConversationNote:
    conversation = _locked(conversation)
    _require(actor, conversation)
    note = ConversationNote.objects.create(
        conversation=conversation, author=actor.user, text=_clean(text)
    )
    record_event(actor, "note", "conversation", conversation.pk)
    return note


@transaction.atomic
def resolve(actor: Actor, conversation: Conversation) -> Conversation:
    """Staff are done: the bot answers the contact's next message again."""
    _require(actor, conversation)
    conversation.state = ConversationState.RESOLVED
    conversation.resolved_at = timezone.now()
    conversation.save(update_fields=["state", "resolved_at"])
    record_event(actor, "resolve", "conversation", conversation.pk)
    return conversation


@transaction.atomic
def erase_contact(actor: Actor, conversation: Conversation) -> int:
    """The person asked: everything of this contact goes (messages, conversations, notes,
    subscriptions, the address). The audit event keeps only that it happened."""
    conversation = _locked(conversation)
    _require(actor, conversation)
    contact_id = conversation.contact_id
    hidden = Conversation.objects.filter(contact_id=contact_id, queue=Queue.PROTECTION)
    if hidden.exists() and not handles_protection(actor):
        # Their protection conversations go too: only those who may see them erase them.
        raise PermissionDenied
    deleted, _by_model = Contact.objects.filter(pk=contact_id).delete()
    record_event(actor, "erase", "messaging_contact", contact_id)
    return deleted


@transaction.atomic
def link_person(actor: Actor, conversation: Conversation, typed_code: str) -> Contact:
    """At the person's request, their contact is linked to their record by the code they
    show: their messages then appear in their data-subject report and go with an erasure."""
    _require(actor, conversation)
    if not actor.handles_personal_records:
        raise PermissionDenied
    person = person_with_code(actor, typed_code, purpose="helpdesk link")
    if person is None:
        raise ValidationError({"text": _("No person of your National Society has this code.")})
    contact = conversation.contact
    contact.person = person
    contact.save(update_fields=["person"])
    record_event(actor, "link", "messaging_contact", contact.pk, person_id=person.pk)
    return contact
