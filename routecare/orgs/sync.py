"""What a field node pulls of the orgs app: its network, the network's societies, service
points and routes (the directory works offline), and the staff of its society who may work
at its point with the points they are assigned to, without their password hashes (a node has
its own sign-in credentials). Staff no longer sent (moved to another point, removed, given
another role) lose their membership at the node and cannot sign in there."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet

from routecare.orgs.models import (
    Membership,
    NationalSociety,
    Network,
    Route,
    RouteStop,
    ServicePoint,
)
from routecare.sync.registry import Reference, register_reference


def _network_id(node: Any) -> Any:
    return node.national_society.network_id


def _staff(node: Any, *, deactivated_too: bool = False) -> QuerySet[Membership]:
    """Members of the node's society who may work at its point: focal points anywhere,
    others when assigned to it or to no point at all (as ``workable_service_points``).
    ``deactivated_too``: their user rows go down deactivated as well, so that a staff member
    deactivated on the server can no longer sign in at the node after its next pull."""
    assigned = Membership.service_points.through.objects.filter(membership_id=OuterRef("pk"))
    members = Membership.objects.filter(
        national_society_id=node.national_society_id,
        role__in=("volunteer", "coordinator", "focal_point"),
    )
    if not deactivated_too:
        members = members.filter(user__is_active=True)
    return members.filter(
        Q(role="focal_point")
        | ~Exists(assigned)
        | Exists(assigned.filter(servicepoint_id=node.service_point_id))
    )


register_reference(
    Reference("orgs.network", Network, lambda node: Network.objects.filter(pk=_network_id(node)))
)
register_reference(
    Reference(
        "orgs.nationalsociety",
        NationalSociety,
        lambda node: NationalSociety.objects.filter(network_id=_network_id(node)),
    )
)
register_reference(
    Reference(
        "orgs.servicepoint",
        ServicePoint,
        lambda node: ServicePoint.objects.filter(national_society__network_id=_network_id(node)),
    )
)
register_reference(
    Reference("orgs.route", Route, lambda node: Route.objects.filter(network_id=_network_id(node)))
)
register_reference(
    Reference(
        "orgs.routestop",
        RouteStop,
        lambda node: RouteStop.objects.filter(route__network_id=_network_id(node)),
    )
)
register_reference(
    Reference(
        "auth.user",
        User,
        lambda node: User.objects.filter(
            pk__in=_staff(node, deactivated_too=True).values("user_id")
        ),
        withheld=frozenset({"password", "is_superuser", "is_staff"}),
        # No longer staff of the node's point (moved, removed, another role): no sign-in there.
        absent=lambda users: users.update(is_active=False),
    )
)
register_reference(
    Reference(
        "orgs.membership",
        Membership,
        lambda node: _staff(node),
        absent=lambda memberships: memberships.delete(),
    )
)
# Which points each of them is assigned to: at the node, as on the server, they choose only
# among those (``access.workable_service_points``).
register_reference(
    Reference(
        "orgs.membership_service_points",
        Membership.service_points.through,
        lambda node: Membership.service_points.through.objects.filter(
            membership_id__in=_staff(node).values("pk")
        ),
        absent=lambda assignments: assignments.delete(),
    )
)
