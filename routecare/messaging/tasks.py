"""Background work of the helpdesk: sending happens here, never in a webhook's request."""

from __future__ import annotations

import uuid

from django_tasks import task

from routecare.messaging import sending
from routecare.messaging.models import Message


@task()
def send_message(message_id: str) -> str:
    """Send one queued message; its status after (``sent``, ``failed``, or as it was)."""
    message = (
        Message.objects.select_related("contact", "channel")
        .filter(pk=uuid.UUID(message_id))
        .first()
    )
    if message is None:
        return "gone"
    return str(sending.send(message).status)
