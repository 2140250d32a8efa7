"""What the flows app syncs from field nodes to the server (see routecare.sync.registry).

Daily counts and stock travel as what was added, never as totals, so that two places (a node
and the server's staff online, or two nodes) never count twice and a change sent again counts
once (docs/sync.md):

- A daily count is the node's row for its point and day; its numbers are ``counters``. A
  node's count belongs to its point: it is applied as a coordinator of the node's point, at
  that point only. When the server holds the day under another id (counted online, or by
  another node), the node's numbers are added to that row, and what they added is kept
  (``DailyCountContribution``) so that the node's later corrections add only the difference.
- A stock movement counted or delivered at the node is an immutable event carrying its
  change. Stock taken by an encounter does not travel: the server takes it for the encounter
  it applied (``flows.stock_use``, from the encounter's ``stock_pending``), so a node never
  sends it, and the mark never comes down to a node.

Nodes pull the stock items of their own point (reference data: the level is the server's,
which already holds what the node sent).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.flows import actions, stock
from routecare.flows.models import DailyCount, DailyCountContribution, StockItem, StockMovement
from routecare.sync.merge import add_delta
from routecare.sync.registry import Reference, Syncable, Values, register, register_reference

COUNT_FIELDS = ("service_point", "day", *actions.COUNTERS, "staff_on_duty")


def _username(user: Any) -> str:
    return str(user.get_username()) if user is not None else ""


def _own_point(actor: Actor, point_id: Any) -> None:
    if actor.service_point is None or str(point_id) != str(actor.service_point.pk):
        raise ValidationError(
            {"service_point": _("A node sends the counts and stock of its own point only.")}
        )


def _staff(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError({"staff_on_duty": _("Enter a number of staff from 0 to 10000.")})
    return value


# Daily counts ---------------------------------------------------------------------------


def serialize_daily_count(count: DailyCount) -> Values:
    return {
        "service_point": str(count.service_point_id),
        "day": count.day.isoformat(),
        "people": count.people,
        "new_arrivals": count.new_arrivals,
        "departures": count.departures,
        "by_sex_and_age": count.by_sex_and_age or {},
        "nationalities": count.nationalities or {},
        "staff_on_duty": count.staff_on_duty,
    }


def _counted(values: Values) -> Values:
    counted = {name: values.get(name) for name in actions.COUNTERS}
    for name in ("by_sex_and_age", "nationalities"):
        counted[name] = counted[name] or {}
    return counted


def create_daily_count(actor: Actor, record_id: uuid.UUID, values: Values) -> DailyCount:
    """The node's row arrives: its numbers are added to the day (a new row under its id when
    the server has none). Arriving again for a row already added to another (a correction at
    the node of a row the server keeps under another id): only the difference is added."""
    _own_point(actor, values.get("service_point"))
    try:
        day = dt.date.fromisoformat(str(values.get("day")))
    except ValueError as exc:
        raise ValidationError({"day": _("Not a date.")}) from exc
    wanted = _counted(values)
    # The node's own row as a whole must make sense, as when it was entered there.
    actions.check_counts(wanted)
    earlier = DailyCountContribution.objects.select_for_update().filter(pk=record_id).first()
    before = earlier.added if earlier is not None else {}
    if earlier is not None and earlier.daily_count.day != day:
        raise ValidationError({"day": _("A count cannot move to another day.")})
    added = {name: add_delta(0, before.get(name), wanted[name]) for name in actions.COUNTERS}
    count = actions.add_to_daily_count(
        actor, day=day, added=added, count_id=record_id,
        staff_on_duty=_staff(values.get("staff_on_duty")),
    )  # fmt: skip
    if count.pk != record_id:
        DailyCountContribution.objects.update_or_create(
            pk=record_id,
            defaults={"daily_count": count, "added": wanted, "updated_at": timezone.now()},
        )
    return count


def update_daily_count(actor: Actor, count: DailyCount, values: Values) -> DailyCount:
    """``values`` are the server's numbers plus what the node added since its base, merged
    from ``count`` as it was read: what to add is that difference, added to the row as it is
    now (another writer may have added meanwhile)."""
    if actor.via != "sync" and set(values) == {"staff_on_duty"}:
        # A coordinator resolving a conflict (the one field that can conflict), online.
        return actions.set_staff_on_duty(actor, count, _staff(values["staff_on_duty"]))
    _own_point(actor, count.service_point_id)
    if str(values.get("service_point", count.service_point_id)) != str(count.service_point_id):
        raise ValidationError({"service_point": _("A count cannot move to another point.")})
    if values.get("day", count.day.isoformat()) != count.day.isoformat():
        raise ValidationError({"day": _("A count cannot move to another day.")})
    read = serialize_daily_count(count)
    added = {
        name: add_delta(0, read[name], values[name]) for name in actions.COUNTERS if name in values
    }
    # Staff on duty is a figure, not a count: changed at the node only, it is the node's
    # (changed differently in both places, the merge made it a conflict and left it out).
    return actions.add_to_daily_count(
        actor, day=count.day, added=added, count_id=count.pk,
        staff_on_duty=_staff(values.get("staff_on_duty")), replace_staff="staff_on_duty" in values,
    )  # fmt: skip


register(
    Syncable(
        label="flows.daily_count", model=DailyCount, fields=COUNT_FIELDS,
        serialize=serialize_daily_count, create=create_daily_count, update=update_daily_count,
        counters=frozenset(actions.COUNTERS),
        author=lambda count: _username(count.entered_by),
    )
)  # fmt: skip


# Stock ----------------------------------------------------------------------------------


def serialize_movement(movement: StockMovement) -> Values:
    return {
        "item": str(movement.item_id),
        "change": movement.change,
        "reason": movement.reason,
        "at": movement.at.isoformat(),
    }


def create_movement(actor: Actor, record_id: uuid.UUID, values: Values) -> StockMovement:
    try:
        item = (
            StockItem.objects.select_related("service_point")
            .filter(pk=uuid.UUID(str(values.get("item"))))
            .first()
        )
    except ValueError:
        item = None
    if item is None:
        raise ValidationError({"item": _("No such stock item.")})
    _own_point(actor, item.service_point_id)
    change = values.get("change")
    if not isinstance(change, int) or isinstance(change, bool):
        raise ValidationError({"change": _("Enter a number from -1000000 to 1000000.")})
    stock.record_movement(
        actor, item, change=change, reason=str(values.get("reason")), movement_id=record_id
    )
    return StockMovement.objects.get(pk=record_id)


register(
    Syncable(
        label="flows.stock_movement", model=StockMovement,
        fields=("item", "change", "reason", "at"),
        serialize=serialize_movement, create=create_movement, immutable=True,
        author=lambda movement: _username(movement.by),
    )
)  # fmt: skip


def _stock_items(node: Any) -> QuerySet[StockItem]:
    return StockItem.objects.filter(service_point_id=node.service_point_id)


register_reference(Reference(label="flows.stock_item", model=StockItem, rows=_stock_items))
