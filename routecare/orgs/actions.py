"""Changes to a National Society's service points and staff, made by its focal point."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.orgs.models import Membership, Role, ServicePoint

SOCIETY_STAFF_ROLES = (Role.VOLUNTEER, Role.COORDINATOR, Role.FOCAL_POINT)


def save_service_point(
    actor: Actor, service_point: ServicePoint, changed: Iterable[str]
) -> ServicePoint:
    """Create or update one of the actor's society's service points; records who and when."""
    if service_point.national_society_id != actor.national_society_id:
        raise PermissionError("not your society's service point")
    creating = service_point._state.adding
    with transaction.atomic():
        service_point.updated_by = actor.user
        service_point.full_clean()
        service_point.save()
        record_event(
            actor,
            "create" if creating else "change",
            "service_point",
            service_point.pk,
            fields=list(changed),
            detail=service_point.code,
        )
    return service_point


def create_staff_member(
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str,
    service_points: Iterable[ServicePoint] = (),
) -> Membership:
    if role not in SOCIETY_STAFF_ROLES:
        raise PermissionError("focal points manage volunteers, coordinators and focal points")
    user_model = get_user_model()
    candidate: Any = user_model(username=username)
    validate_password(password, candidate)
    with transaction.atomic():
        user: User = user_model.objects.create_user(username=username, password=password)
        membership = Membership.objects.create(
            user=user, role=role, national_society_id=actor.national_society_id
        )
        points = [p for p in service_points if p.national_society_id == actor.national_society_id]
        membership.service_points.set(points)
        record_event(
            actor,
            "create",
            "membership",
            membership.pk,
            fields=["role", "service_points"],
            detail=username,
        )
    return membership


DESIGNATIONS = ("protection", "rfl_focal_point", "safeguarding")


def update_staff_member(
    actor: Actor,
    membership: Membership,
    *,
    role: str,
    active: bool,
    service_points: Iterable[ServicePoint],
    designations: Iterable[str] | None = None,
) -> Membership:
    """``designations``: which of protection, rfl_focal_point and safeguarding the member
    holds (None leaves them as they are)."""
    if (
        membership.national_society_id != actor.national_society_id
        or role not in SOCIETY_STAFF_ROLES
    ):
        raise PermissionError("not your society's staff member")
    with transaction.atomic():
        membership.role = role
        changed = ["role"]
        if designations is not None:
            held = set(designations)
            for name in DESIGNATIONS:
                setattr(membership, name, name in held)
            changed += list(DESIGNATIONS)
        membership.save(update_fields=changed)
        points = [p for p in service_points if p.national_society_id == actor.national_society_id]
        membership.service_points.set(points)
        user = membership.user
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
        record_event(
            actor,
            "change",
            "membership",
            membership.pk,
            fields=[*changed, "service_points", "is_active"],
            detail=user.get_username(),
        )
    return membership
