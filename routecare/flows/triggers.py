"""Early-action triggers: metrics of a point (or a country), evaluated against readiness and
activation thresholds by the periodic job; every change of state is logged with the values
behind it, notifies the society's focal points and coordinators and waits for an
acknowledgement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event, record_system_event
from routecare.core import fields
from routecare.flows import forecast
from routecare.flows.models import (
    DailyCount,
    Metric,
    StockItem,
    StockMovement,
    Trigger,
    TriggerEvent,
    TriggerState,
)
from routecare.flows.stock import point_staff
from routecare.notifications.actions import notify
from routecare.orgs.models import Membership, Role, ServicePoint

STOCK_USE_DAYS = 7  # days of stock left = level / mean daily use over this many days
MAX_THRESHOLD = Decimal("99999999")


def _points(trigger: Trigger) -> list[ServicePoint]:
    if trigger.service_point_id is not None:
        return [trigger.service_point] if trigger.service_point else []
    return list(
        ServicePoint.objects.filter(national_society_id=trigger.national_society_id)
        .exclude(status=ServicePoint.Status.CLOSED)
        .select_related("national_society")
    )


def _arrivals_average(points: list[ServicePoint], today: dt.date) -> tuple[float, dict[str, Any]]:
    """The mean of the last three days' arrivals, summed over the points: the three days end
    today once today is counted anywhere, else yesterday. Uncounted days count as 0."""
    series = forecast.load_series(points, today - dt.timedelta(days=3))
    last = today if any(today in s.arrivals for s in series.values()) else today - dt.timedelta(1)
    days = [last - dt.timedelta(days=n) for n in range(2, -1, -1)]
    per_day = {
        day.isoformat(): sum(s.arrivals.get(day, 0) for s in series.values()) for day in days
    }
    return sum(per_day.values()) / 3, {"arrivals": per_day}


def _forecast(points: list[ServicePoint], now: dt.datetime) -> tuple[float, dict[str, Any]]:
    forecasts = forecast.network_forecasts(points, now)
    expected = {f.point.code: f.expected[24] for f in forecasts.values()}
    return float(sum(expected.values())), {"expected_24h": expected}


def _arrivals_per_staff(
    points: list[ServicePoint], today: dt.date
) -> tuple[float | None, dict[str, Any]]:
    """Arrivals per staff member on duty, on each point's latest day (of the last two) with
    staff counted."""
    rows = DailyCount.objects.filter(
        service_point__in=points, day__gte=today - dt.timedelta(days=1), staff_on_duty__gt=0
    ).order_by("service_point_id", "-day")
    latest: dict[object, DailyCount] = {}
    for count in rows:
        latest.setdefault(count.service_point_id, count)
    if not latest:
        return None, {}
    arrivals = sum(c.new_arrivals or c.people for c in latest.values())
    staff = sum(c.staff_on_duty or 0 for c in latest.values())
    return arrivals / staff, {"arrivals": arrivals, "staff_on_duty": staff}


def _stock_days_left(
    points: list[ServicePoint], now: dt.datetime
) -> tuple[float | None, dict[str, Any]]:
    """The fewest days any item in use would last at its mean daily use of the last week."""
    since = now - dt.timedelta(days=STOCK_USE_DAYS)
    items = StockItem.objects.filter(service_point__in=points).annotate(
        used=Sum(
            "movements__change",
            filter=Q(
                movements__at__gte=since,
                movements__reason__in=[
                    StockMovement.Reason.USED, StockMovement.Reason.DISPATCHED
                ],
            ),
        )
    )  # fmt: skip
    days_left: dict[str, float] = {}
    for item in items:
        used = -(item.used or 0)
        if used > 0:
            days_left[f"{item.service_point_id}:{item.name}"] = max(item.level, 0) / (
                used / STOCK_USE_DAYS
            )
    if not days_left:
        return None, {}
    worst = min(days_left, key=days_left.__getitem__)
    return days_left[worst], {
        "item": worst.split(":", 1)[1],
        "days_left": round(days_left[worst], 1),
    }


def entry_points(points: list[ServicePoint], now: dt.datetime) -> list[ServicePoint]:
    """The points where people enter a country's part of the routes: their nearest counting
    point upstream is in another country, or there is none. A country's arrivals are counted
    there only, so people seen at several of its points are not counted twice."""
    forecasts = forecast.network_forecasts(points, now)
    return [
        point
        for point in points
        if point.pk not in forecasts
        or all(
            source.point.national_society_id != point.national_society_id
            for source in forecasts[point.pk].sources
        )
    ]


def measure(trigger: Trigger, now: dt.datetime) -> tuple[float | None, dict[str, Any]]:
    """The trigger's metric now, with the inputs it came from (None: nothing to measure)."""
    points = _points(trigger)
    if not points:
        return None, {}
    today = timezone.localdate(now)
    metric = Metric(trigger.metric)
    if trigger.service_point_id is None and metric in (
        Metric.ARRIVALS_3_DAY_AVERAGE,
        Metric.FORECAST_24H,
    ):
        points = entry_points(points, now)
    if metric is Metric.ARRIVALS_3_DAY_AVERAGE:
        return _arrivals_average(points, today)
    if metric is Metric.FORECAST_24H:
        return _forecast(points, now)
    if metric is Metric.ARRIVALS_PER_STAFF:
        return _arrivals_per_staff(points, today)
    return _stock_days_left(points, now)


def state_for(trigger: Trigger, value: float) -> str:
    value_d = Decimal(str(round(value, 1)))
    if Metric(trigger.metric).falling_is_worse:
        crossed = (value_d <= trigger.activation, value_d <= trigger.readiness)
    else:
        crossed = (value_d >= trigger.activation, value_d >= trigger.readiness)
    if crossed[0]:
        return TriggerState.ACTIVATED
    if crossed[1]:
        return TriggerState.READINESS
    return TriggerState.NORMAL


def recipients(trigger: Trigger) -> list[User]:
    """The society's focal points, and its coordinators (of the point, for a point's
    trigger: those assigned to it and those assigned to no point)."""
    if trigger.service_point is not None:
        return point_staff(trigger.service_point)
    members = Membership.objects.filter(
        national_society_id=trigger.national_society_id,
        role__in=[Role.FOCAL_POINT, Role.COORDINATOR],
    ).select_related("user")
    return [member.user for member in members if member.user.is_active]


@transaction.atomic
def evaluate(trigger: Trigger, now: dt.datetime | None = None) -> TriggerEvent | None:
    """Measure, store the value, and on a change of state log it and tell the society."""
    now = now or timezone.now()
    trigger = (
        Trigger.objects.select_for_update(of=("self",))
        .select_related("service_point")
        .get(pk=trigger.pk)
    )
    value, inputs = measure(trigger, now)
    trigger.evaluated_at = now
    if value is None:
        trigger.save(update_fields=["evaluated_at"])
        return None
    trigger.value = Decimal(str(round(value, 1)))
    state = state_for(trigger, value)
    previous = trigger.state
    trigger.state = state
    trigger.save(update_fields=["evaluated_at", "value", "state"])
    if state == previous:
        return None
    event = TriggerEvent.objects.create(
        trigger=trigger, at=now, from_state=previous, to_state=state, value=trigger.value,
        inputs=inputs,
    )  # fmt: skip
    record_system_event(
        "change",
        "trigger",
        trigger.pk,
        national_society_id=trigger.national_society_id,
        detail=f"{previous} -> {state} at {trigger.value}",
    )
    notify(
        recipients(trigger),
        _("Early action: %(name)s is now %(state)s (%(value)s)")
        % {"name": trigger.name, "state": event.get_to_state_display(), "value": trigger.value},
        reverse("flows:triggers"),
        urgent=state == TriggerState.ACTIVATED,
        email=state == TriggerState.ACTIVATED,
    )
    return event


def evaluate_all(now: dt.datetime | None = None) -> str:
    """The periodic job: every enabled trigger, one transaction each."""
    changed = 0
    triggers = Trigger.objects.filter(enabled=True).values_list("pk", flat=True)
    for pk in triggers:
        if evaluate(Trigger(pk=pk), now) is not None:
            changed += 1
    return f"{len(triggers)} triggers evaluated, {changed} changed state"


def _check_thresholds(metric: str, readiness: Decimal, activation: Decimal) -> None:
    if metric not in Metric.values:
        raise ValidationError({"metric": _("Choose a metric.")})
    for name, value in (("readiness", readiness), ("activation", activation)):
        if not Decimal(0) <= value <= MAX_THRESHOLD:
            raise ValidationError({name: _("Enter a threshold of 0 or more.")})
    if Metric(metric).falling_is_worse and readiness < activation:
        raise ValidationError(
            {"activation": _("For days of stock left, activation comes below readiness.")}
        )
    if not Metric(metric).falling_is_worse and readiness > activation:
        raise ValidationError({"activation": _("Activation comes above readiness.")})


@transaction.atomic
def save_trigger(
    actor: Actor,
    *,
    name: str,
    metric: str,
    readiness: Decimal,
    activation: Decimal,
    service_point: ServicePoint | None = None,
    trigger: Trigger | None = None,
    enabled: bool = True,
) -> Trigger:
    """A focal point sets up (or changes) a trigger of their society."""
    if not actor.administers_society:
        raise PermissionError("triggers are set up by the society's focal points")
    if trigger is not None and trigger.national_society_id != actor.national_society_id:
        raise PermissionError("another society's trigger")
    if service_point is not None and service_point.national_society_id != actor.society_id:
        raise ValidationError({"service_point": _("Choose a point of your society.")})
    if not name.strip() or len(name) > 120:
        raise ValidationError({"name": _("Give the trigger a name of up to 120 characters.")})
    fields.TRIGGER_NAME.check(name, "name")
    _check_thresholds(metric, readiness, activation)
    values = {
        "name": name.strip(),
        "metric": metric,
        "readiness": readiness,
        "activation": activation,
        "service_point": service_point,
        "enabled": enabled,
    }
    if trigger is None:
        trigger = Trigger.objects.create(
            national_society_id=actor.society_id, created_by=actor.user, **values
        )
        record_event(actor, "create", "trigger", trigger.pk, detail=trigger.name)
        return trigger
    changed = [key for key, value in values.items() if getattr(trigger, key) != value]
    for key, value in values.items():
        setattr(trigger, key, value)
    trigger.save()
    record_event(actor, "change", "trigger", trigger.pk, fields=changed)
    return trigger


def acknowledge_event(actor: Actor, event: TriggerEvent) -> TriggerEvent:
    """A coordinator or focal point of the society has seen the change (once)."""
    if actor.national_society_id != event.trigger.national_society_id or actor.role not in (
        Role.COORDINATOR,
        Role.FOCAL_POINT,
    ):
        raise PermissionError("acknowledged by the society's coordinators and focal points")
    if event.acknowledged_at is None:
        event.acknowledged_by = actor.user
        event.acknowledged_at = timezone.now()
        event.save(update_fields=["acknowledged_by", "acknowledged_at"])
        record_event(actor, "change", "trigger_event", event.pk, fields=["acknowledged"])
    return event
