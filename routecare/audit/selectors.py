from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from routecare.access import Actor
from routecare.audit.models import AuditEvent


@dataclass(frozen=True)
class TrailFilter:
    username: str = ""
    action: str = ""
    object_type: str = ""
    person: uuid.UUID | None = None
    since: dt.date | None = None
    until: dt.date | None = None


def society_trail(actor: Actor, trail_filter: TrailFilter) -> QuerySet[AuditEvent]:
    """The audit trail of the actor's own National Society, newest first."""
    if not actor.administers_society:
        return AuditEvent.objects.none()
    events = AuditEvent.objects.filter(national_society_id=actor.national_society_id)
    if trail_filter.username:
        events = events.filter(actor_username__icontains=trail_filter.username)
    if trail_filter.action:
        events = events.filter(action=trail_filter.action)
    if trail_filter.object_type:
        events = events.filter(object_type=trail_filter.object_type)
    if trail_filter.person:
        events = events.filter(person_id=trail_filter.person)
    if trail_filter.since:
        events = events.filter(at__date__gte=trail_filter.since)
    if trail_filter.until:
        events = events.filter(at__date__lte=trail_filter.until)
    return events.select_related("service_point").order_by("-at")
