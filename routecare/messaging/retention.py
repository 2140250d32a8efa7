"""How long the helpdesk keeps what it received. Until a person consents to more, a
conversation is kept only as long as needed to answer it: at most a day (issue 23). The
consent step is not built yet, so nobody has consented: every message goes after a day, and a
contact with no message left goes with it."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from routecare.messaging.models import Contact, Message

BEFORE_CONSENT = dt.timedelta(hours=24)


@transaction.atomic
def purge(now: dt.datetime | None = None) -> str:
    """Delete what is past its time; a summary with counts only."""
    cutoff = (now or timezone.now()) - BEFORE_CONSENT
    messages, _ = Message.objects.filter(created_at__lt=cutoff).delete()
    contacts, _ = (
        Contact.objects.filter(created_at__lt=cutoff)
        .exclude(Exists(Message.objects.filter(contact=OuterRef("pk"))))
        .delete()
    )
    return f"{messages} messages and {contacts} contacts past their time deleted"
