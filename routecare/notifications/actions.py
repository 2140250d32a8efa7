"""Notifying staff: in the app, and by email for what needs attention."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from routecare.notifications.models import Notification
from routecare.notifications.tasks import email_notification


def notify(
    users: Iterable[User], title: str, path: str, *, urgent: bool = False, email: bool = False
) -> list[Notification]:
    """``title`` must hold no personal data: it is shown in lists and sent by email."""
    created = Notification.objects.bulk_create(
        Notification(user=user, title=title[:160], path=path, urgent=urgent)
        for user in {user.pk: user for user in users}.values()
    )
    if email:
        for notification in created:
            transaction.on_commit(
                lambda pk=str(notification.pk): email_notification.enqueue(pk)  # type: ignore[misc]
            )
    return created


def mark_read(user: User, notification_id: uuid.UUID | None = None) -> int:
    """Mark one notification of the user's, or all of them, as read."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())
