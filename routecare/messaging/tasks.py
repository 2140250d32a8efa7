"""Background work of the helpdesk: answering and sending happen here, never in a webhook's
request. Tasks take ids and call the modules that do the work."""

from __future__ import annotations

import uuid

from django_tasks import task

from routecare.messaging import answering, sending
from routecare.messaging.models import Message


@task()
def answer_message(message_id: str) -> str:
    """The bot's answer to one inbound message (once, however often the task runs)."""
    return answering.answer_inbound(uuid.UUID(message_id))


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
