"""The one place that decides who may see or change what.

Views, API endpoints and selectors ask this module; none of them decides on its own. Every view
and API operation declares an access ``Rule``; a test walks every URL and operation and fails on
any without one.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from routecare.core import caching
from routecare.orgs.models import Membership, Role, ServicePoint

# The core.caching kind of answers about who may do what (who an API token is).
ACCESS = "access"

P = ParamSpec("P")
R = TypeVar("R")

# Roles that work with individual personal records of their own National Society.
RECORD_ROLES = frozenset({Role.VOLUNTEER, Role.COORDINATOR, Role.FOCAL_POINT})


class Rule(enum.Enum):
    """What a view or API operation needs from the acting user."""

    PUBLIC = "public"  # anyone, signed in or not
    SIGNED_IN = "signed-in"  # any staff member, any role
    PERSONAL_RECORDS = "personal-records"  # read/change own society's people, at a point
    CARD_READING = "card-reading"  # read the care cards of the actor's network (partners too)
    DIRECTORY_EDITING = "directory-editing"  # change the service points one runs
    COORDINATION = "coordination"  # daily counts and alerts: coordinators and focal points
    ROUTE_OVERVIEW = "route-overview"  # route views: coordinators, focal points, regional
    DASHBOARDS = "dashboards"  # indicators: a coordinator's point, a society, a network
    FEEDBACK = "feedback"  # handle feedback: focal points, coordinators, regional staff
    SAFEGUARDING = "safeguarding"  # sensitive feedback: designated safeguarding focal points
    HELPDESK = "helpdesk"  # the messaging inbox: a society's focal points and coordinators
    FAQ = "faq"  # read the staff FAQ: any staff member of a society or network
    FAQ_EDITING = "faq-editing"  # draft FAQ entries: coordinators, focal points, regional
    FAQ_APPROVAL = "faq-approval"  # approve and retire them: focal points, regional
    CASH_ROUNDS = "cash-rounds"  # create, close and delete cash rounds: coordinators, focal points
    CASH_REVIEW = "cash-review"  # decide on flagged cash enrolments: a society's focal points
    SOCIETY_ADMIN = "society-admin"  # manage own society's points, staff and audit trail
    SYSADMIN = "sysadmin"  # Django admin
    NODE = "node"  # an enrolled field node syncing with its server: never a staff member


@dataclass(frozen=True)
class Actor:
    """The acting staff member and where they work today."""

    user: User
    role: str
    national_society_id: uuid.UUID | None
    network_id: uuid.UUID | None
    service_point: ServicePoint | None
    via: str = "web"  # web, api or command: recorded in the audit trail
    protection: bool = False  # holds a protection role (restricted referrals)
    rfl_focal_point: bool = False
    safeguarding: bool = False  # receives sensitive feedback

    @property
    def user_id(self) -> int:
        return int(self.user.pk)

    @property
    def society_id(self) -> uuid.UUID:
        """The actor's National Society; only for roles that belong to one."""
        if self.national_society_id is None:
            raise PermissionError("this role belongs to no National Society")
        return self.national_society_id

    @property
    def handles_personal_records(self) -> bool:
        return self.role in RECORD_ROLES and self.national_society_id is not None

    @property
    def reads_cards(self) -> bool:
        """Staff with records and partner organisations read the cards of their network."""
        return (
            self.role in RECORD_ROLES or self.role == Role.PARTNER
        ) and self.national_society_id is not None

    @property
    def reads_health_part_only(self) -> bool:
        return self.role == Role.PARTNER

    @property
    def administers_society(self) -> bool:
        return self.role == Role.FOCAL_POINT and self.national_society_id is not None


class StaffRequest(HttpRequest):
    """A request that passed ``staff_view``: ``actor`` is set (None only on public pages)."""

    actor: Actor


def membership_of(user: User | AnonymousUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    try:
        membership: Membership = user.membership
    except Membership.DoesNotExist:
        return None
    return membership


def workable_service_points(user: User) -> QuerySet[ServicePoint]:
    """The service points a staff member may pick as today's place of work."""
    membership = membership_of(user)
    if membership is None or membership.national_society_id is None:
        return ServicePoint.objects.none()
    if membership.role not in RECORD_ROLES:
        return ServicePoint.objects.none()
    points = ServicePoint.objects.filter(
        national_society_id=membership.national_society_id
    ).exclude(status=ServicePoint.Status.CLOSED)
    if membership.role != Role.FOCAL_POINT:
        # Staff assigned to points work there only; unassigned staff anywhere in the society.
        # Both cases in one query: this runs on every request.
        assigned = Membership.service_points.through.objects.filter(membership_id=membership.pk)
        points = points.filter(
            ~Exists(assigned) | Exists(assigned.filter(servicepoint_id=OuterRef("pk")))
        )
    return points


def may_work_at(
    membership: Membership, point: ServicePoint, *, assigned_here: bool, has_assignments: bool
) -> bool:
    """``workable_service_points`` for one point already loaded, e.g. with an API token."""
    return (
        membership.role in RECORD_ROLES
        and membership.national_society_id is not None
        and point.national_society_id == membership.national_society_id
        and point.status != ServicePoint.Status.CLOSED
        and (membership.role == Role.FOCAL_POINT or not has_assignments or assigned_here)
    )


def assignment_annotations(membership_ref: str, point_ref: str) -> dict[str, Exists]:
    """Whether a membership has assigned points, and whether a given point is one of them."""
    assigned = Membership.service_points.through.objects.filter(
        membership_id=OuterRef(membership_ref)
    )
    return {
        "has_assignments": Exists(assigned),
        "assigned_here": Exists(assigned.filter(servicepoint_id=OuterRef(point_ref))),
    }


def actor_of(
    user: User, membership: Membership, service_point: ServicePoint | None, via: str
) -> Actor:
    return Actor(
        user=user,
        role=membership.role,
        national_society_id=membership.national_society_id,
        network_id=membership.network_id,
        service_point=service_point,
        via=via,
        protection=membership.protection,
        rfl_focal_point=membership.rfl_focal_point,
        safeguarding=membership.safeguarding,
    )


def build_actor(
    user: User | AnonymousUser,
    service_point_id: str | uuid.UUID | None,
    via: str = "web",
) -> Actor | None:
    membership = membership_of(user)
    if membership is None:
        return None
    if not isinstance(user, User):
        return None
    service_point = None
    if service_point_id:
        service_point = workable_service_points(user).filter(pk=service_point_id).first()
    return actor_of(user, membership, service_point, via)


def allows(actor: Actor | None, rule: Rule) -> bool:
    if rule is Rule.PUBLIC:
        return True
    if actor is None:
        return False
    if rule is Rule.SIGNED_IN:
        return True
    if rule is Rule.PERSONAL_RECORDS:
        return actor.handles_personal_records
    if rule is Rule.CARD_READING:
        return actor.reads_cards
    if rule in (Rule.DIRECTORY_EDITING, Rule.COORDINATION):
        return actor.role in (Role.FOCAL_POINT, Role.COORDINATOR)
    if rule is Rule.DASHBOARDS:
        return actor.role in (Role.COORDINATOR, Role.FOCAL_POINT, Role.REGIONAL)
    if rule is Rule.ROUTE_OVERVIEW:
        return actor.network_id is not None and actor.role in (
            Role.FOCAL_POINT,
            Role.COORDINATOR,
            Role.REGIONAL,
        )
    if rule is Rule.FEEDBACK:
        return actor.role in (Role.FOCAL_POINT, Role.COORDINATOR, Role.REGIONAL) or (
            actor.safeguarding
        )
    if rule is Rule.SAFEGUARDING:
        return actor.safeguarding
    if rule is Rule.HELPDESK:
        return actor.national_society_id is not None and actor.role in (
            Role.FOCAL_POINT,
            Role.COORDINATOR,
        )
    if rule is Rule.FAQ:
        return actor.network_id is not None and actor.role != Role.SYSADMIN
    if rule is Rule.FAQ_EDITING:
        return actor.network_id is not None and actor.role in (
            Role.COORDINATOR, Role.FOCAL_POINT, Role.REGIONAL,
        )  # fmt: skip
    if rule is Rule.FAQ_APPROVAL:
        return actor.network_id is not None and actor.role in (Role.FOCAL_POINT, Role.REGIONAL)
    if rule is Rule.CASH_ROUNDS:
        # Cash rounds are run at a point like enrolments: the rule keeps today's point too.
        return actor.handles_personal_records and actor.role in (
            Role.COORDINATOR,
            Role.FOCAL_POINT,
        )
    if rule is Rule.CASH_REVIEW:
        return actor.handles_personal_records and actor.role == Role.FOCAL_POINT
    if rule is Rule.SOCIETY_ADMIN:
        return actor.administers_society
    if rule is Rule.SYSADMIN:
        return actor.role == Role.SYSADMIN
    if rule is Rule.NODE:
        return False  # node endpoints authenticate a node (routecare.sync.api), not staff
    raise AssertionError(rule)


def may_edit_service_point(actor: Actor, point: ServicePoint) -> bool:
    """The society's focal points, and coordinators assigned to the point (or to any point of
    the society when they have no assignment), change a point's directory entry."""
    if point.national_society_id != actor.national_society_id:
        return False
    if actor.role == Role.FOCAL_POINT:
        return True
    if actor.role != Role.COORDINATOR:
        return False
    assigned = Membership.objects.filter(user_id=actor.user_id).values_list(
        "service_points", flat=True
    )
    points = {value for value in assigned if value is not None}
    return not points or point.pk in points


def may_create_cash_round(actor: Actor, *, network_wide: bool) -> bool:
    """A society's coordinators and focal points run its own rounds; a round of the whole
    network commits other societies' money rules, so only focal points start one."""
    if not allows(actor, Rule.CASH_ROUNDS):
        return False
    return actor.role == Role.FOCAL_POINT or not network_wide


def may_manage_cash_round(
    actor: Actor, owner_id: uuid.UUID | None, participant_ids: set[uuid.UUID]
) -> bool:
    """Closing or deleting a round (which erases its encodings): the owning society's
    coordinators and focal points; for a network-wide round, the focal points of the
    societies taking part."""
    if not allows(actor, Rule.CASH_ROUNDS):
        return False
    if owner_id is None:
        return actor.role == Role.FOCAL_POINT and actor.national_society_id in participant_ids
    return owner_id == actor.national_society_id


def takes_part_in_cash_round(actor: Actor, participant_ids: set[uuid.UUID]) -> bool:
    """Enrolling people and seeing one's own enrolments of a round: staff with personal
    records of a society taking part (never another society's enrolments: cash.selectors)."""
    return actor.handles_personal_records and actor.national_society_id in participant_ids


def may_review_cash_enrolment(actor: Actor, enrolling_society_id: uuid.UUID) -> bool:
    """A flagged enrolment is decided by a focal point of the society that enrolled the
    person, who sees only the dates, points and similarity of the two enrolments."""
    return allows(actor, Rule.CASH_REVIEW) and actor.national_society_id == enrolling_society_id


def needs_two_factor(role: str) -> bool:
    from django.conf import settings

    return role in settings.ROUTECARE_TWO_FACTOR_ROLES


class NoServicePoint(PermissionDenied):
    """An API token for personal records must be bound to a point its user works at."""


def api_rule(rule: Rule) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare and enforce the rule of an API operation; ``request.auth`` is the Actor."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            request: Any = args[0]
            actor: Actor | None = getattr(request, "auth", None)
            if not allows(actor, rule):
                raise PermissionDenied
            if rule is Rule.PERSONAL_RECORDS and actor is not None and actor.service_point is None:
                raise NoServicePoint
            return func(*args, **kwargs)

        wrapper.access_rule = rule  # type: ignore[attr-defined]
        return wrapper

    return decorate


def staff_view(rule: Rule) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Declare and enforce the rule of a page; puts the Actor on ``request.actor``.

    Signed-out visitors go to sign-in, roles that need a second factor go to it, and pages about
    people need today's service point to be chosen first.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            actor = build_actor(request.user, request.session.get("service_point_id"))
            request.actor = actor  # type: ignore[attr-defined]
            if rule is Rule.PUBLIC:
                return view(request, *args, **kwargs)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
            if actor is None:
                raise PermissionDenied
            if needs_two_factor(actor.role) and not request.user.is_verified():  # type: ignore[attr-defined]
                return redirect_to_login(request.get_full_path(), reverse("accounts:two_factor"))
            if not allows(actor, rule):
                raise PermissionDenied
            if rule is Rule.PERSONAL_RECORDS and actor.service_point is None:
                return redirect_to_login(request.get_full_path(), reverse("accounts:pick_point"))
            return view(request, *args, **kwargs)

        wrapper.access_rule = rule  # type: ignore[attr-defined]
        return wrapper

    return decorate


def access_changed(sender: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A user, membership, assignment, token or point changed: drop cached token actors."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # every sign-in saves this; nothing about access
    # Again at commit: a request that read the old rows meanwhile must not keep them cached.
    caching.changed_with_transaction(ACCESS)
