"""What the staff header shows at a field node: online or offline, the last successful sync,
changes waiting and changes the server refused. Nothing on a server.

Read once per request (one row and one COUNT), and only when a page draws the header."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from routecare.sync.models import NodeState, OutboxChange

# A node that has not tried to sync for this long (the periodic job runs every minute) is
# shown offline: its link, or its worker, is down.
ONLINE_WINDOW = dt.timedelta(minutes=3)


@dataclass(frozen=True)
class NodeStatus:
    enrolled: bool
    online: bool
    last_success_at: dt.datetime | None
    last_error: str
    waiting: int
    refused: int
    national_society_id: str | None
    conflicts: int = 0  # open on the server for this node's changes, as of the last pull


def read_node_status() -> NodeStatus:
    state = NodeState.objects.first()
    counts = OutboxChange.objects.aggregate(
        waiting=Count("pk", filter=Q(state=OutboxChange.State.WAITING)),
        refused=Count("pk", filter=Q(state=OutboxChange.State.REFUSED)),
    )
    if state is None:
        return NodeStatus(False, False, None, "", counts["waiting"], counts["refused"], None)
    attempted = state.last_attempt_at
    online = (
        attempted is not None
        and attempted >= timezone.now() - ONLINE_WINDOW
        and not state.last_error
        and state.last_success_at is not None
    )
    return NodeStatus(
        enrolled=True,
        online=online,
        last_success_at=state.last_success_at,
        last_error=state.last_error,
        waiting=counts["waiting"],
        refused=counts["refused"],
        national_society_id=str(state.national_society_id),
        conflicts=state.open_conflicts,
    )


def node_status_of(request: HttpRequest) -> NodeStatus:
    """This request's node status, read at most once however many times it is asked for."""
    found: NodeStatus | None = getattr(request, "_routecare_node_status", None)
    if found is None:
        found = read_node_status()
        request._routecare_node_status = found  # type: ignore[attr-defined]
    return found


def node_status(request: HttpRequest) -> dict[str, object]:
    """Context processor: ``node_status`` at a node for signed-in staff, else nothing."""
    if not settings.ROUTECARE_NODE:
        return {}
    return {"node_status": SimpleLazyObject(lambda: node_status_of(request))}
