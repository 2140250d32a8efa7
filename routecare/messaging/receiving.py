"""Keeping what a webhook delivered, once: a delivery retried by the platform, doubled, or sent
five times at once finds its message already kept and is acknowledged without a second row
(the unique (channel, platform id) constraint decides, not a check before the insert)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from routecare.messaging.channels import Delivery, Inbound, address_digest, external_key
from routecare.messaging.models import Channel, Contact, DeliveryStatus, Direction, Message
from routecare.messaging.tasks import answer_message

# A status moves forward only: a late "delivered" does not undo "read".
STATUS_ORDER: dict[str, int] = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 4,
}


@dataclass(frozen=True)
class Received:
    kept: list[Message]
    duplicates: int
    statuses: int
    blocked: int
    ignored: int


def contact_for(channel: Channel, address: str, language: str = "") -> Contact:
    """The channel's contact with this address, made on their first message."""
    digest = address_digest(channel, address)
    contact = Contact.objects.filter(channel=channel, address_digest=digest).first()
    if contact is not None:
        return contact
    try:
        with transaction.atomic():
            return Contact.objects.create(
                channel=channel, address_digest=digest, address=address, language=language[:8]
            )
    except IntegrityError:  # made meanwhile by a simultaneous delivery
        return Contact.objects.get(channel=channel, address_digest=digest)


def _keep(channel: Channel, item: Inbound) -> Message | None:
    contact = contact_for(channel, item.address, item.language)
    try:
        with transaction.atomic():
            message = Message.objects.create(
                channel=channel,
                contact=contact,
                direction=Direction.INBOUND,
                external_id=external_key(channel, item.external_id),
                kind=item.kind,
                # A location stays (encrypted) until the worker has answered it.
                body={**item.body, "at": list(item.location)} if item.location else item.body,
                status=DeliveryStatus.RECEIVED,
                sent_at=item.sent_at,
            )
    except IntegrityError:
        return None
    # Writing again after blocking a Telegram bot means they unblocked it.
    Contact.objects.filter(pk=contact.pk).update(last_inbound_at=timezone.now(), stopped_at=None)
    transaction.on_commit(lambda: answer_message.enqueue(str(message.pk)))
    return message


@transaction.atomic  # one commit a delivery: each statement committing alone cost the most
def receive(channel: Channel, delivery: Delivery) -> Received:
    kept: list[Message] = []
    duplicates = statuses = blocked = 0
    for item in delivery.messages:
        message = _keep(channel, item)
        if message is None:
            duplicates += 1
        else:
            kept.append(message)
    for update in delivery.statuses:
        statuses += _move_status(channel, external_key(channel, update.external_id), update.status)
    for address in delivery.blocked:
        blocked += Contact.objects.filter(
            channel=channel, address_digest=address_digest(channel, address), stopped_at=None
        ).update(stopped_at=timezone.now())
    return Received(kept, duplicates, statuses, blocked, delivery.ignored)


def _move_status(channel: Channel, external_id: str, status: str) -> int:
    earlier = [state for state, rank in STATUS_ORDER.items() if rank < STATUS_ORDER[status]]
    return Message.objects.filter(
        channel=channel,
        direction=Direction.OUTBOUND,
        external_id=external_id,
        status__in=earlier,
    ).update(status=status)
