from itertools import product

from routecare.access import may_work_at, workable_service_points
from routecare.conftest import Society
from routecare.orgs.models import Membership, ServicePoint


def test_the_point_rule_agrees_with_its_query_form(own: Society, other: Society) -> None:
    """``may_work_at`` (API tokens) and ``workable_service_points`` (pages) must never differ."""
    points = [own.point, own.second_point, other.point]
    for role, assigned, closed in product(
        ("volunteer", "coordinator", "focal_point", "partner"), (False, True), (False, True)
    ):
        membership = Membership.objects.get(user=own.volunteer)
        membership.role = role
        membership.save()
        membership.service_points.set([own.point] if assigned else [])
        ServicePoint.objects.filter(pk=own.second_point.pk).update(
            status="closed" if closed else "open"
        )
        fresh_user = type(own.volunteer).objects.get(pk=own.volunteer.pk)
        queried = set(workable_service_points(fresh_user))
        for point in points:
            point.refresh_from_db()
            decided = may_work_at(
                membership,
                point,
                assigned_here=membership.service_points.filter(pk=point.pk).exists(),
                has_assignments=membership.service_points.exists(),
            )
            assert decided == (point in queried), (role, assigned, closed, point.code)
