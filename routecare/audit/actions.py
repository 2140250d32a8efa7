"""Writing audit events. Called by the actions and selectors of every app, never by views."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth.models import User

from routecare.access import Actor
from routecare.audit.models import AuditEvent
from routecare.core.prepared import insert
from routecare.orgs.models import Membership


def record_user_event(
    user: User,
    action: str,
    object_type: str,
    object_id: object = "",
    *,
    fields: Iterable[str] = (),
    detail: str = "",
    via: str = "web",
) -> AuditEvent:
    """An account or administration event, by a user who may work at no service point."""
    membership = Membership.objects.filter(user=user).first()
    return AuditEvent.objects.create(
        actor=user,
        actor_username=user.get_username(),
        national_society_id=membership.national_society_id if membership else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        fields=sorted(fields),
        detail=detail[:200],
        via=via,
    )


def record_event(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object = "",
    *,
    person_id: uuid.UUID | None = None,
    fields: Iterable[str] = (),
    detail: str = "",
) -> AuditEvent:
    # The INSERT kept (core.prepared): one goes with nearly every request.
    return insert(
        AuditEvent(
            actor=actor.user,
            actor_username=actor.user.get_username(),
            national_society_id=actor.national_society_id,
            service_point=actor.service_point,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            person_id=person_id,
            fields=sorted(fields),
            detail=detail[:200],
            via=actor.via,
        )
    )


def record_system_event(
    action: str,
    object_type: str,
    object_id: object = "",
    *,
    national_society_id: uuid.UUID | None = None,
    detail: str = "",
) -> AuditEvent:
    """A change made by an operator at the command line, where no staff account acts."""
    return AuditEvent.objects.create(
        actor=None,
        actor_username="(command line)",
        national_society_id=national_society_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail[:200],
        via="command",
    )
