"""How long the helpdesk keeps what it received and sent. Before a person consents, a
conversation is kept only as long as needed to answer it: at most a day. After consent, for
the channel's period (the society's choice, 90 days unless set). A resolved conversation goes
with its last message; a contact goes when nothing of theirs is left (no message, no open
conversation, no subscription); a conversation still with the bot, when its messages are
gone; one waiting for staff stays until they resolve it. Run hourly (``messaging.purge``); it
reports counts only."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from routecare.messaging.models import (
    Channel,
    Contact,
    Conversation,
    ConversationState,
    KeptMedia,
    Message,
    Subscription,
)

BEFORE_CONSENT = dt.timedelta(hours=24)


@transaction.atomic
def purge(now: dt.datetime | None = None) -> str:
    """Delete what is past its time; a summary with counts only."""
    now = now or timezone.now()
    day_ago = now - BEFORE_CONSENT
    messages, _ = Message.objects.filter(
        created_at__lt=day_ago, contact__consented_at__isnull=True
    ).delete()
    for channel_id, days in Channel.objects.values_list("pk", "retention_days"):
        kept_until = now - dt.timedelta(days=days)
        count, _ = Message.objects.filter(
            channel_id=channel_id, created_at__lt=kept_until, contact__consented_at__isnull=False
        ).delete()
        messages += count
    # Kept media: shown to staff for 7 days, then gone (their message may stay longer).
    media, _ = KeptMedia.objects.filter(kept_at__lt=now - dt.timedelta(days=7)).delete()
    any_message = Exists(Message.objects.filter(conversation=OuterRef("pk")))
    _, by_model = (
        Conversation.objects.filter(
            state__in=(ConversationState.RESOLVED, ConversationState.BOT), opened_at__lt=day_ago
        )
        .exclude(any_message)
        .delete()
    )
    conversations = by_model.get("messaging.Conversation", 0)
    _, by_model = (
        Contact.objects.filter(created_at__lt=day_ago)
        .exclude(Exists(Message.objects.filter(contact=OuterRef("pk"))))
        .exclude(Exists(Conversation.objects.filter(contact=OuterRef("pk"))))
        .exclude(Exists(Subscription.objects.filter(contact=OuterRef("pk"))))
        .delete()
    )
    contacts = by_model.get("messaging.Contact", 0)
    return (
        f"{messages} messages, {conversations} conversations, {contacts} contacts and "
        f"{media} kept files past their time deleted"
    )
