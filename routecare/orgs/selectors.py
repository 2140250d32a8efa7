from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from routecare.access import Actor
from routecare.orgs.models import Membership, ServicePoint


def society_service_points(actor: Actor) -> QuerySet[ServicePoint]:
    return ServicePoint.objects.filter(national_society_id=actor.national_society_id)


def society_service_point(actor: Actor, service_point_id: uuid.UUID) -> ServicePoint:
    point = society_service_points(actor).filter(pk=service_point_id).first()
    if point is None:
        raise Http404
    return point


def society_staff(actor: Actor) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(national_society_id=actor.national_society_id)
        .select_related("user")
        .prefetch_related("service_points")
        .order_by("user__username")
    )


def society_staff_member(actor: Actor, membership_id: int) -> Membership:
    membership = society_staff(actor).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership
