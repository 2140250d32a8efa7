"""Background work for notifications: emails go out from the worker (`make worker`)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task

from routecare.notifications.models import Notification


@task()
def email_notification(notification_id: str) -> bool:
    """A short email with a link and no personal data; False if there is nobody to send to."""
    notification = (
        Notification.objects.select_related("user").filter(pk=uuid.UUID(notification_id)).first()
    )
    if notification is None or not notification.user.email:
        return False
    link = settings.ROUTECARE_BASE_URL.rstrip("/") + notification.path
    send_mail(
        subject=f"RouteCare: {notification.title}",
        message=f"{notification.title}\n\nOpen RouteCare to see it: {link}\n",
        from_email=None,
        recipient_list=[notification.user.email],
    )
    return True
