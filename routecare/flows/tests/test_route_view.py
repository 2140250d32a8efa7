"""The route view (page and API), the trigger page and the flows API for forecasts,
triggers, stock and transfers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from routecare.conftest import Society
from routecare.flows import actions, stock, triggers
from routecare.flows.models import (
    DailyCount,
    Metric,
    StockItem,
    TransferRequest,
    Trigger,
    TriggerEvent,
)
from routecare.flows.tests.conftest import actor_at
from routecare.orgs.models import ServicePoint


def _user(username: str) -> object:
    return get_user_model().objects.get(username=username)


def test_the_route_view_shows_each_stop_in_order(
    demo: None, web: Callable[..., Client], api: Callable[..., Client]
) -> None:
    tabanovce = actor_at("mkd-tabanovce", "focal")
    actions.record_daily_count(
        tabanovce, day=timezone.localdate(), people=320, new_arrivals=300, departures=280
    )
    actions.send_alert(
        tabanovce, kind="group-movement", severity="warning", message="Group of 300 heading north",
        scope="network",
    )  # fmt: skip
    stock.save_item(
        tabanovce, tabanovce.service_point, kind="hygiene-kit",  # type: ignore[arg-type]
        name="Hygiene kits", level=2, minimum=20,
    )  # fmt: skip
    trigger = triggers.save_trigger(
        tabanovce, name="Tabanovce arrivals", metric=Metric.ARRIVALS_3_DAY_AVERAGE,
        readiness=Decimal(50), activation=Decimal(500),
        service_point=tabanovce.service_point,
    )  # fmt: skip
    triggers.evaluate(trigger)
    regional = web(_user("western-balkans-regional"))
    page = regional.get("/flows/routes/balkans-north/").content.decode()
    codes = ("grc-athens", "mkd-tabanovce", "srb-belgrade", "svn-logatec")
    order = [page.index(f'data-point="{code}"') for code in codes]
    assert order == sorted(order)
    tabanovce_part = page[page.index('data-point="mkd-tabanovce"') : page.index(
        'data-point="mkd-lojane"')]  # fmt: skip
    assert "320" in tabanovce_part
    assert "Group of 300 heading north" not in tabanovce_part  # sent from there
    assert "Hygiene kits (2 units)" in tabanovce_part
    assert "Readiness" in tabanovce_part
    belgrade_part = page[page.index('data-point="srb-belgrade"') :]
    assert 'data-testid="forecast-srb-belgrade"' in belgrade_part
    assert "Group of 300 heading north" in belgrade_part
    assert "Tabanovce transit centre (5.5 h away)" in belgrade_part
    # Belgrade's coordinator sees the forecast on the home page.
    belgrade = ServicePoint.objects.get(code="srb-belgrade")
    home = web(_user("rs-coordinator"), belgrade).get("/").content.decode()
    assert 'data-testid="forecast-srb-belgrade"' in home
    # Another network's route does not exist for this user.
    assert regional.get("/flows/routes/darien-north/").status_code == 404
    assert b"Greece" in regional.get("/flows/routes/").content
    stops = api(_user("western-balkans-regional")).get("/api/v1/flows/routes/balkans-north")
    assert stops.status_code == 200
    by_code = {stop["service_point"]: stop for stop in stops.json()}
    assert by_code["mkd-tabanovce"]["today"]["people"] == 320
    assert by_code["mkd-tabanovce"]["low_stock"] == [
        {"name": "Hygiene kits", "level": 2, "minimum": 20}
    ]
    assert by_code["srb-belgrade"]["forecast"]["sources"] == [
        {"service_point": "mkd-tabanovce", "lag_hours": 5.5}
    ]


def test_volunteers_do_not_see_route_views(demo: None, web: Callable[..., Client]) -> None:
    volunteer = web(_user("rs-volunteer"), ServicePoint.objects.get(code="srb-belgrade"))
    assert volunteer.get("/flows/routes/balkans-north/").status_code == 403


def test_the_trigger_page_sets_up_and_acknowledges(
    own: Society, web: Callable[..., Client]
) -> None:
    focal = web(own.focal_point, own.point)
    saved = focal.post(
        "/flows/triggers/",
        {"name": "Arrivals", "metric": "arrivals-3-day-average", "service_point": own.point.pk,
         "readiness": "10", "activation": "20"},
    )  # fmt: skip
    assert saved.status_code == 302
    refused = focal.post(
        "/flows/triggers/",
        {"name": "Upside down", "metric": "arrivals-3-day-average", "readiness": "30",
         "activation": "20"},
    )  # fmt: skip
    assert b"Activation comes above readiness" in refused.content
    coordinator = web(own.coordinator, own.point)
    assert coordinator.post("/flows/triggers/", {"name": "x"}).status_code == 302
    assert Trigger.objects.count() == 1
    actions.record_daily_count(
        own.actor("coordinator"), day=timezone.localdate(), people=90, new_arrivals=90
    )
    event = triggers.evaluate(Trigger.objects.get())
    assert event is not None
    page = coordinator.get("/flows/triggers/").content.decode()
    assert "Waiting for acknowledgement" in page
    assert b"Arrivals" in coordinator.get("/").content  # on the dashboard too
    coordinator.post(f"/flows/trigger-events/{event.pk}/acknowledge/", {"next": "/"})
    event.refresh_from_db()
    assert event.acknowledged_by == own.coordinator
    assert "Waiting for acknowledgement" not in coordinator.get("/flows/triggers/").content.decode()


def test_the_flows_api(own: Society, other: Society, api: Callable[..., Client]) -> None:
    coordinator = api(own.coordinator, own.point)
    focal = api(own.focal_point, own.point)
    assert coordinator.get("/api/v1/flows/forecast").status_code == 404  # no route upstream
    created = focal.post(
        "/api/v1/flows/triggers",
        {"name": "Per staff", "metric": "arrivals-per-staff", "readiness": 10, "activation": 20,
         "service_point": own.point.code},
        "application/json",
    )  # fmt: skip
    assert created.status_code == 201
    assert focal.post(
        "/api/v1/flows/triggers",
        {"name": "x", "metric": "arrivals-per-staff", "readiness": 1, "activation": 2,
         "service_point": other.point.code},
        "application/json",
    ).status_code == 422  # fmt: skip
    assert coordinator.post(
        "/api/v1/flows/triggers",
        {"name": "x", "metric": "arrivals-per-staff", "readiness": 1, "activation": 2},
        "application/json",
    ).status_code == 403  # fmt: skip
    coordinator.post(
        "/api/v1/flows/counts",
        {"day": timezone.localdate().isoformat(), "people": 50, "new_arrivals": 50,
         "staff_on_duty": 2},
        "application/json",
    )  # fmt: skip
    triggers.evaluate_all()
    waiting = coordinator.get("/api/v1/flows/trigger-events").json()
    assert [(e["trigger"], e["to_state"], e["value"]) for e in waiting] == [
        ("Per staff", "activated", "25.0")
    ]
    acknowledged = coordinator.post(f"/api/v1/flows/trigger-events/{waiting[0]['id']}/acknowledge")
    assert acknowledged.json()["acknowledged_at"] is not None
    assert api(other.coordinator, other.point).get("/api/v1/flows/triggers").json() == []
    assert TriggerEvent.objects.count() == 1

    item = coordinator.post(
        "/api/v1/flows/stock",
        {"kind": "water", "name": "Water", "level": 10, "minimum": 12, "service": "water"},
        "application/json",
    )
    assert item.status_code == 201
    assert item.json()["is_low"] is True
    counted = coordinator.post(
        f"/api/v1/flows/stock/{item.json()['id']}/count", {"level": 40}, "application/json"
    )
    assert counted.json()["level"] == 40
    assert coordinator.post(
        "/api/v1/flows/stock", {"kind": "gold", "name": "x"}, "application/json"
    ).status_code == 422  # fmt: skip
    assert api(other.coordinator, other.point).post(
        f"/api/v1/flows/stock/{item.json()['id']}/count", {"level": 1}, "application/json"
    ).status_code == 404  # fmt: skip

    sent = coordinator.post(
        "/api/v1/flows/transfers",
        {"kind": "supplies", "quantity": 5, "supplying_point": own.second_point.code,
         "item_name": "Water", "item_kind": "water"},
        "application/json",
    )  # fmt: skip
    assert sent.status_code == 201
    supplier = api(own.coordinator, own.second_point)
    dispatched = supplier.post(f"/api/v1/flows/transfers/{sent.json()['id']}/dispatched")
    assert dispatched.json()["status"] == "dispatched"
    received = coordinator.post(f"/api/v1/flows/transfers/{sent.json()['id']}/received")
    assert received.json()["status"] == "received"
    assert coordinator.get("/api/v1/flows/stock").json()[0]["level"] == 45
    assert coordinator.post(
        "/api/v1/flows/transfers",
        {"kind": "supplies", "quantity": 5, "supplying_point": other.point.code,
         "item_name": "Water", "item_kind": "water"},
        "application/json",
    ).status_code == 422  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/flows/counts", "not json"),
        ("/api/v1/flows/counts", '{"day": "yesterday", "people": 3}'),
        ("/api/v1/flows/counts", '{"day": "2026-01-01", "people": -4}'),
        ("/api/v1/flows/triggers", '{"name": "x", "metric": "forecast-24h"}'),
        ("/api/v1/flows/triggers", '{"name": "x", "metric": "forecast-24h", "readiness": "a"}'),
        ("/api/v1/flows/stock", '{"kind": "water", "name": "' + "x" * 81 + '"}'),
        ("/api/v1/flows/stock", "[]"),
        ("/api/v1/flows/transfers", '{"kind": "gold", "quantity": 1}'),
        ("/api/v1/flows/transfers", '{"kind": "supplies", "quantity": 0}'),
        ("/api/v1/flows/transfers", '{"kind": "supplies", "quantity": 2}'),
    ],
)
def test_bad_flows_bodies_are_refused_and_change_nothing(
    own: Society, api: Callable[..., Client], path: str, body: str
) -> None:
    response = api(own.focal_point, own.point).post(path, body, "application/json")
    assert response.status_code == (400 if body == "not json" else 422)
    assert response.json()["detail"]
    assert not Trigger.objects.exists()
    assert not StockItem.objects.exists()
    assert not TransferRequest.objects.exists()
    assert not DailyCount.objects.exists()


def test_unknown_transfer_steps_are_refused(own: Society, api: Callable[..., Client]) -> None:
    transfer = stock.request_transfer(own.actor("coordinator"), kind="staff", quantity=1)
    client = api(own.coordinator, own.point)
    assert client.post(f"/api/v1/flows/transfers/{transfer.pk}/teleported").status_code == 422
    assert client.post(f"/api/v1/flows/transfers/{transfer.pk}/received").status_code == 422
    assert client.post("/api/v1/flows/transfers/not-a-uuid/received").status_code == 422
