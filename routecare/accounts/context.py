from __future__ import annotations

from django.http import HttpRequest

from routecare.access import Actor, Rule, allows
from routecare.notifications.models import Notification


def actor(request: HttpRequest) -> dict[str, object]:
    current: Actor | None = getattr(request, "actor", None)
    unread = 0
    if current is not None:
        unread = Notification.objects.filter(user=current.user, read_at__isnull=True).count()
    return {
        "unread_notifications": unread,
        "actor": current,
        "can_handle_records": allows(current, Rule.PERSONAL_RECORDS),
        "can_read_cards": allows(current, Rule.CARD_READING),
        "can_admin_society": allows(current, Rule.SOCIETY_ADMIN),
    }
