"""The notification centre: every staff member's list, newest unread first."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.notifications import actions
from routecare.notifications.models import Notification


@staff_view(Rule.SIGNED_IN)
def centre(request: StaffRequest) -> HttpResponse:
    notifications = Notification.objects.filter(user=request.actor.user)[:100]
    return render(request, "notifications/centre.html", {"notifications": notifications})


@staff_view(Rule.SIGNED_IN)
@require_POST
def open_notification(request: StaffRequest, notification_id: uuid.UUID) -> HttpResponse:
    notification = Notification.objects.filter(pk=notification_id, user=request.actor.user).first()
    if notification is None:
        raise Http404
    actions.mark_read(request.actor.user, notification.pk)
    # Only our own paths: a notification never sends anyone off-site.
    return redirect(notification.path if notification.path.startswith("/") else "/")


@staff_view(Rule.SIGNED_IN)
@require_POST
def read_all(request: StaffRequest) -> HttpResponse:
    actions.mark_read(request.actor.user)
    return redirect("notifications:centre")
