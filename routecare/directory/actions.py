"""Changes to a service point's directory entry by those who run it: audited, at once
visible everywhere (the public pages read the same rows)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor, may_edit_service_point
from routecare.orgs.actions import save_service_point
from routecare.orgs.models import ServicePoint

EDITABLE = (
    "status",
    "opening_hours",
    "services",
    "languages",
    "phone",
    "whatsapp",
    "visibility",
    "capacity",
    "latitude",
    "longitude",
    "last_verified",
    "address",
    "directions",
    "translations",
)


def update_service_point(actor: Actor, point: ServicePoint, **changes: Any) -> ServicePoint:
    """Change some fields of a point; nothing is saved unless every change is valid."""
    if not may_edit_service_point(actor, point):
        raise PermissionError("not a point this user runs")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %s") % ", ".join(sorted(unknown))
        )
    original = ServicePoint.objects.get(pk=point.pk)
    for name, value in changes.items():
        setattr(original, name, value)
    changed = [name for name in changes if getattr(point, name) != changes[name]]
    return save_service_point(actor, original, changed)


def mark_verified(actor: Actor, point: ServicePoint) -> ServicePoint:
    """The entry was checked today: it is no longer flagged as possibly out of date."""
    return update_service_point(actor, point, last_verified=timezone.now().date())
