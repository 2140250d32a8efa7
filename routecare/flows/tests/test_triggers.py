"""Early-action triggers: crossing a threshold changes state, logs the values, notifies the
society and waits for acknowledgement; the periodic job runs once at a time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.conftest import Society
from routecare.core import periodic
from routecare.core.models import JobLock
from routecare.flows import actions, stock, triggers
from routecare.flows.models import Metric, Trigger, TriggerEvent, TriggerState
from routecare.notifications.models import Notification


def _arrivals(society: Society, *per_day: int) -> None:
    today = timezone.localdate()
    for offset, arrivals in enumerate(reversed(per_day)):
        actions.record_daily_count(
            society.actor("coordinator"),
            day=today - dt.timedelta(days=offset),
            people=arrivals,
            new_arrivals=arrivals,
        )


def _trigger(society: Society, metric: str = Metric.ARRIVALS_3_DAY_AVERAGE) -> Trigger:
    return triggers.save_trigger(
        society.actor("focal_point"),
        name="Arrivals at the border",
        metric=metric,
        readiness=Decimal(100),
        activation=Decimal(200),
        service_point=society.point,
    )


def test_a_trigger_crossing_its_activation_threshold_notifies_and_logs(
    own: Society, other: Society
) -> None:
    trigger = _trigger(own)
    _arrivals(own, 50, 60, 70)
    assert triggers.evaluate(trigger) is None  # 60 a day: normal, nothing to tell
    _arrivals(own, 150, 210, 300)
    event = triggers.evaluate(trigger)
    assert event is not None
    assert (event.from_state, event.to_state) == (TriggerState.NORMAL, TriggerState.ACTIVATED)
    assert event.value == Decimal("220.0")
    assert sorted(event.inputs["arrivals"].values()) == [150, 210, 300]
    trigger.refresh_from_db()
    assert trigger.state == TriggerState.ACTIVATED
    told = Notification.objects.filter(title__contains="Arrivals at the border")
    assert {n.user for n in told} == {own.coordinator, own.focal_point}
    assert all(n.urgent for n in told)
    assert not Notification.objects.filter(user__in=[other.coordinator, other.focal_point])
    assert AuditEvent.objects.filter(object_type="trigger", action="change").exists()
    assert triggers.evaluate(trigger) is None  # still activated: no second message
    triggers.acknowledge_event(own.actor("coordinator"), event)
    event.refresh_from_db()
    assert event.acknowledged_by == own.coordinator
    with pytest.raises(PermissionError):
        triggers.acknowledge_event(other.actor("coordinator"), event)


def test_falling_back_is_logged_too(own: Society) -> None:
    trigger = _trigger(own)
    _arrivals(own, 300, 300, 300)
    triggers.evaluate(trigger)
    _arrivals(own, 120, 120, 120)
    event = triggers.evaluate(trigger)
    assert event is not None
    assert event.to_state == TriggerState.READINESS
    assert TriggerEvent.objects.filter(trigger=trigger).count() == 2


def test_days_of_stock_left_activates_when_falling(
    own: Society, django_capture_on_commit_callbacks: Any
) -> None:
    from routecare.conftest import register
    from routecare.people import actions as people_actions

    trigger = triggers.save_trigger(
        own.actor("focal_point"),
        name="Water",
        metric=Metric.STOCK_DAYS_LEFT,
        readiness=Decimal(5),
        activation=Decimal(2),
    )
    item = stock.save_item(
        own.actor("coordinator"), own.point, kind="water", name="Water 1.5 l", service="water",
        level=40,
    )  # fmt: skip
    person = register(own)
    with django_capture_on_commit_callbacks(execute=True):
        people_actions.record_encounter(own.actor(), person, services=[("water", 7)])
    event = triggers.evaluate(trigger)  # 33 left at 1 a day: normal
    assert event is None
    with django_capture_on_commit_callbacks(execute=True):
        people_actions.record_encounter(own.actor(), person, services=[("water", 21)])
    event = triggers.evaluate(trigger)  # 12 left at 4 a day: 3 days, readiness
    assert event is not None
    assert event.to_state == TriggerState.READINESS
    assert event.inputs == {"item": "Water 1.5 l", "days_left": 3.0}
    item.refresh_from_db()
    assert item.level == 12


def test_arrivals_per_staff(own: Society) -> None:
    trigger = _trigger(own, Metric.ARRIVALS_PER_STAFF)
    actions.record_daily_count(
        own.actor("coordinator"), day=timezone.localdate(), people=500, new_arrivals=450,
        staff_on_duty=2,
    )  # fmt: skip
    event = triggers.evaluate(trigger)
    assert event is not None
    assert event.value == Decimal("225.0")


def test_a_country_trigger_adds_up_the_societys_points(own: Society) -> None:
    trigger = triggers.save_trigger(
        own.actor("focal_point"),
        name="Country arrivals",
        metric=Metric.ARRIVALS_3_DAY_AVERAGE,
        readiness=Decimal(10),
        activation=Decimal(1000),
    )
    _arrivals(own, 30, 30, 30)
    event = triggers.evaluate(trigger)
    assert event is not None
    assert event.to_state == TriggerState.READINESS


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"readiness": Decimal(300)}, "Activation comes above readiness"),
        ({"metric": "moon-phase"}, "Choose a metric"),
        ({"activation": Decimal(-1)}, "0 or more"),
        ({"name": ""}, "name"),
        ({"metric": Metric.STOCK_DAYS_LEFT}, "activation comes below readiness"),
    ],
)
def test_impossible_triggers_are_refused(
    own: Society, values: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "name": "Arrivals",
        "metric": Metric.ARRIVALS_3_DAY_AVERAGE,
        "readiness": Decimal(100),
        "activation": Decimal(200),
    } | values
    with pytest.raises(ValidationError, match=message):
        triggers.save_trigger(own.actor("focal_point"), **arguments)  # type: ignore[arg-type]
    assert not Trigger.objects.exists()


def test_only_focal_points_set_up_triggers(own: Society, other: Society) -> None:
    coordinator = own.actor("coordinator")
    with pytest.raises(PermissionError):
        triggers.save_trigger(
            coordinator, name="x", metric=Metric.FORECAST_24H, readiness=Decimal(1),
            activation=Decimal(2),
        )  # fmt: skip
    with pytest.raises(ValidationError):
        triggers.save_trigger(
            other.actor("focal_point"), name="x", metric=Metric.FORECAST_24H,
            readiness=Decimal(1), activation=Decimal(2), service_point=own.point,
        )  # fmt: skip


def test_the_periodic_job_evaluates_triggers_once_at_a_time(own: Society) -> None:
    trigger = _trigger(own)
    _arrivals(own, 300, 300, 300)
    now = timezone.now()
    # Another process holds the lock: nothing runs.
    JobLock.objects.create(name="flows.evaluate-triggers", held_until=now + dt.timedelta(minutes=5))
    results = periodic.run_due(now, force=True)
    assert results["flows.evaluate-triggers"] == "skipped: running elsewhere"
    trigger.refresh_from_db()
    assert trigger.state == TriggerState.NORMAL
    JobLock.objects.all().delete()
    call_command("periodic", "--once")
    trigger.refresh_from_db()
    assert trigger.state == TriggerState.ACTIVATED
    lock = JobLock.objects.get(name="flows.evaluate-triggers")
    assert lock.last_result == "1 triggers evaluated, 1 changed state"
    # Not due again until its interval has passed.
    assert "flows.evaluate-triggers" not in periodic.run_due(now + dt.timedelta(minutes=1))
    assert "flows.evaluate-triggers" in periodic.run_due(now + dt.timedelta(minutes=16))


def test_a_country_counts_arrivals_where_people_enter_it(demo: None) -> None:
    """Honduras' arrivals are counted at Las Manos, where the route enters the country, not
    again at Danlí and Tegucigalpa further on."""
    from routecare.flows.tests.conftest import actor_at

    today = timezone.localdate()
    for code, arrivals in (("hnd-las-manos", 300), ("hnd-danli", 280), ("hnd-tegucigalpa", 250)):
        actions.record_daily_count(
            actor_at(code, "focal"), day=today, people=arrivals, new_arrivals=arrivals
        )
    trigger = triggers.save_trigger(
        actor_at("hnd-danli", "focal"), name="Honduras arrivals",
        metric=Metric.ARRIVALS_3_DAY_AVERAGE, readiness=Decimal(50), activation=Decimal(1000),
    )  # fmt: skip
    event = triggers.evaluate(trigger)
    assert event is not None
    # 300 over three days at Las Manos, and the few people the demo's encounters recorded at
    # points off the route; not the 830 of all three points.
    assert Decimal(100) <= event.value < Decimal(110)
