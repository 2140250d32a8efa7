"""Stock: levels counted and taken down by encounters, low-stock warnings, transfers between
the points of one society, surge staff requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from routecare.audit.models import AuditEvent
from routecare.conftest import Society, register
from routecare.flows import stock, stock_use
from routecare.flows.models import StockItem, StockMovement, TransferRequest
from routecare.notifications.models import Notification
from routecare.people import actions as people_actions

Status = TransferRequest.Status


def _water(society: Society, level: int = 20, minimum: int = 5) -> StockItem:
    return stock.save_item(
        society.actor("coordinator"), society.point, kind="water", name="Water 1.5 l",
        unit="bottles", minimum=minimum, service="water", level=level,
    )  # fmt: skip


def test_encounters_take_their_services_from_stock_and_warn_when_low(
    own: Society, django_capture_on_commit_callbacks: Any
) -> None:
    item = _water(own)
    person = register(own)
    with django_capture_on_commit_callbacks(execute=True) as taken:
        people_actions.record_encounter(own.actor(), person, services=[("water", 10), ("food", 1)])
        assert StockItem.objects.get(pk=item.pk).level == 20  # not before the commit
    assert len(taken) == 1
    item.refresh_from_db()
    assert item.level == 10
    assert not Notification.objects.filter(title__startswith="Low stock")
    with django_capture_on_commit_callbacks(execute=True):
        encounter = people_actions.record_encounter(own.actor(), person, services=[("water", 6)])
    item.refresh_from_db()
    assert item.level == 4
    warned = Notification.objects.filter(title__startswith="Low stock")
    assert {n.user for n in warned} == {own.coordinator, own.focal_point}
    assert "4 bottles left" in warned[0].title
    # A correction gives back what the corrected encounter took, then takes its own.
    with django_capture_on_commit_callbacks(execute=True):
        people_actions.record_encounter(
            own.actor(), person, services=[("water", 2)], corrects=encounter
        )
    item.refresh_from_db()
    assert item.level == 8
    # One movement per encounter and item: the correction's is +6 given back, -2 taken.
    used = StockMovement.objects.filter(item=item, reason="used").order_by("at")
    assert [movement.change for movement in used] == [-10, -6, 4]


def test_a_counted_level_replaces_the_level_and_is_audited(own: Society) -> None:
    item = _water(own)
    stock.count_level(own.actor("coordinator"), item, 50)
    item.refresh_from_db()
    assert item.level == 50
    assert item.movements.filter(reason="counted").first().change == 30  # type: ignore[union-attr]
    changes = AuditEvent.objects.filter(object_type="stock_item", action="change")
    assert any("level" in event.fields for event in changes)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kind": "gold"}, "kind of item"),
        ({"name": ""}, "Name the item"),
        ({"minimum": -1}, "0 to 1000000"),
        ({"service": "teleport"}, "service from the list"),
        ({"level": -3}, "0 to 1000000"),
    ],
)
def test_impossible_items_are_refused(
    own: Society, values: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"kind": "food", "name": "Rice"} | values
    with pytest.raises(ValidationError, match=message):
        stock.save_item(own.actor("coordinator"), own.point, **arguments)  # type: ignore[arg-type]
    assert not StockItem.objects.filter(level__lt=0).exists()


def test_one_item_per_name_and_per_service(own: Society) -> None:
    _water(own)
    with pytest.raises(ValidationError, match="already has an item"):
        _water(own)
    with pytest.raises(ValidationError, match="already follows"):
        stock.save_item(
            own.actor("coordinator"), own.point, kind="water", name="Water 5 l", service="water"
        )


def test_volunteers_and_other_societies_do_not_keep_stock(own: Society, other: Society) -> None:
    item = _water(own)
    with pytest.raises(PermissionError):
        stock.count_level(own.actor(), item, 1)
    with pytest.raises(PermissionError):
        stock.count_level(other.actor("coordinator"), item, 1)
    with pytest.raises(PermissionError):
        stock.items_at(other.actor("coordinator"), own.point)


def test_a_transfer_goes_requested_dispatched_received(own: Society) -> None:
    supplier_item = stock.save_item(
        own.actor("coordinator", own.second_point), own.second_point, kind="medicine",
        name="ORS sachets", level=100,
    )  # fmt: skip
    transfer = stock.request_transfer(
        own.actor("coordinator"), kind="supplies", quantity=40,
        supplying_point=own.second_point, item_name="ORS sachets", item_kind="medicine",
    )  # fmt: skip
    assert Notification.objects.filter(title__contains="40 × ORS sachets").exists()
    with pytest.raises(PermissionError):  # the requester cannot dispatch to itself
        stock.advance_transfer(own.actor("volunteer"), transfer, Status.DISPATCHED)
    stock.advance_transfer(own.actor("coordinator", own.second_point), transfer, Status.DISPATCHED)
    supplier_item.refresh_from_db()
    assert supplier_item.level == 60
    with pytest.raises(ValidationError, match="cannot become"):
        stock.advance_transfer(own.actor("coordinator"), transfer, Status.CANCELLED)
    stock.advance_transfer(own.actor("coordinator"), transfer, Status.RECEIVED)
    received = StockItem.objects.get(service_point=own.point, name="ORS sachets")
    assert received.level == 40
    transfer.refresh_from_db()
    assert transfer.status == Status.RECEIVED


def test_a_supplier_cannot_dispatch_more_than_it_holds(own: Society) -> None:
    stock.save_item(
        own.actor("coordinator", own.second_point), own.second_point, kind="food",
        name="Rice", level=3,
    )  # fmt: skip
    transfer = stock.request_transfer(
        own.actor("coordinator"), kind="supplies", quantity=10,
        supplying_point=own.second_point, item_name="rice", item_kind="food",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="Only 3 in stock"):
        stock.advance_transfer(
            own.actor("coordinator", own.second_point), transfer, Status.DISPATCHED
        )
    transfer.refresh_from_db()
    assert transfer.status == Status.REQUESTED


def test_transfers_stay_within_a_society(own: Society, other: Society) -> None:
    with pytest.raises(ValidationError, match="your own society"):
        stock.request_transfer(
            own.actor("coordinator"), kind="supplies", quantity=1, supplying_point=other.point,
            item_name="Rice", item_kind="food",
        )  # fmt: skip
    transfer = stock.request_transfer(own.actor("coordinator"), kind="staff", quantity=3)
    assert stock.transfers_for(other.actor("focal_point")) == []
    with pytest.raises(PermissionError):
        stock.advance_transfer(other.actor("focal_point"), transfer, Status.DISPATCHED)


def test_surge_staff_requests_go_to_the_focal_points(own: Society) -> None:
    transfer = stock.request_transfer(
        own.actor("coordinator"), kind="staff", quantity=4, note="caravan expected"
    )
    assert Notification.objects.filter(
        user=own.focal_point, title__contains="4 surge staff"
    ).exists()
    with pytest.raises(PermissionError):  # coordinators do not send staff
        stock.advance_transfer(own.actor("coordinator"), transfer, Status.DISPATCHED)
    stock.advance_transfer(own.actor("focal_point"), transfer, Status.DISPATCHED)
    stock.advance_transfer(own.actor("coordinator"), transfer, Status.RECEIVED)
    transfer.refresh_from_db()
    assert transfer.status == Status.RECEIVED


def test_stock_and_transfer_pages(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.coordinator, own.point)
    added = client.post(
        "/flows/stock/",
        {"kind": "hygiene-kit", "name": "Hygiene kit", "unit": "kits", "level": "8",
         "minimum": "10"},
    )  # fmt: skip
    assert added.status_code == 302
    item = StockItem.objects.get(name="Hygiene kit")
    page = client.get("/flows/stock/").content.decode()
    assert 'data-item="Hygiene kit"' in page
    assert "severity-warning" in page  # 8 is below the minimum of 10
    client.post(f"/flows/stock/{item.pk}/count/", {"level": "30"})
    item.refresh_from_db()
    assert item.level == 30
    refused = client.post(f"/flows/stock/{item.pk}/count/", {"level": "-5"})
    assert refused.status_code == 302
    item.refresh_from_db()
    assert item.level == 30
    duplicate = client.post(
        "/flows/stock/",
        {"kind": "food", "name": "hygiene kit", "unit": "kits", "level": "1", "minimum": "0"},
    )
    assert b"already has an item" in duplicate.content
    requested = client.post("/flows/transfers/", {"kind": "staff", "quantity": "2"})
    assert requested.status_code == 302
    transfer = TransferRequest.objects.get()
    listing = client.get("/flows/transfers/").content.decode()
    assert f"/flows/transfers/{transfer.pk}/cancelled/" in listing
    assert f"/flows/transfers/{transfer.pk}/dispatched/" not in listing
    client.post(f"/flows/transfers/{transfer.pk}/cancelled/")
    transfer.refresh_from_db()
    assert transfer.status == Status.CANCELLED
    bad = client.post("/flows/transfers/", {"kind": "supplies", "quantity": "2"})
    assert b"Choose the point to ask" in bad.content


def test_a_service_followed_later_is_taken_from_the_next_encounter(
    own: Society, django_capture_on_commit_callbacks: Any
) -> None:
    item = stock.save_item(
        own.actor("coordinator"), own.point, kind="water", name="Water 1.5 l",
        unit="bottles", minimum=0, service="", level=20,
    )  # fmt: skip
    person = register(own)
    with django_capture_on_commit_callbacks(execute=True):
        people_actions.record_encounter(own.actor(), person, services=[("water", 3)])
    assert StockItem.objects.get(pk=item.pk).level == 20  # the item followed no service
    assert stock_use.followed_services(own.point.pk) == frozenset()  # and that answer is kept
    # Linking the item to the service (an update, which sends no signal) drops the answer.
    stock.save_item(
        own.actor("coordinator"), own.point, item=item, kind="water", name="Water 1.5 l",
        unit="bottles", minimum=0, service="water",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        people_actions.record_encounter(own.actor(), person, services=[("water", 3)])
    assert StockItem.objects.get(pk=item.pk).level == 17
