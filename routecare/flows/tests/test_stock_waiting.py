"""The stock of encounters taken after their request (issue 22, the write path): the
encounter's own row says its stock waits, and a drain takes many at once, each exactly once,
even with drains and writers at once or a drain that fails half-way."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from routecare.conftest import Society, register
from routecare.flows import stock, stock_use
from routecare.flows.models import StockItem, StockMovement
from routecare.indicators import rollups
from routecare.indicators.models import ServiceRollup
from routecare.notifications.models import Notification
from routecare.people import actions as people_actions
from routecare.people.models import Encounter


@pytest.fixture
def worker_tasks(settings: Any) -> None:
    """As on a server: background tasks go to the worker's queue, so nothing runs after the
    request, and the stock waits for the periodic job."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _water(society: Society, level: int = 20, minimum: int = 5) -> StockItem:
    return stock.save_item(
        society.actor("coordinator"), society.point, kind="water", name="Water 1.5 l",
        unit="bottles", minimum=minimum, service="water", level=level,
    )  # fmt: skip


def _level(item: StockItem) -> int:
    return StockItem.objects.get(pk=item.pk).level


def test_an_encounter_request_leaves_its_stock_waiting_on_its_own_row(
    own: Society, worker_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    item = _water(own)
    person = register(own)
    with django_capture_on_commit_callbacks(execute=True) as after_commit:
        encounter = people_actions.record_encounter(
            own.actor(), person, services=[("water", 3), ("food", 1)]
        )
    assert after_commit == []  # nothing runs after the commit
    assert _level(item) == 20
    assert Encounter.objects.get(pk=encounter.pk).stock_pending
    assert stock_use.waiting_at(own.point).count == 1
    assert stock_use.take_all_waiting() == "stock taken for 1 encounters at 1 points"
    assert _level(item) == 17
    assert not Encounter.objects.get(pk=encounter.pk).stock_pending
    movement = StockMovement.objects.get(item=item, reason="used")
    assert (movement.encounter_id, movement.change, movement.level_after) == (encounter.pk, -3, 17)
    # Taken once: a second drain finds nothing.
    assert stock_use.take_all_waiting() == "stock taken for 0 encounters at 0 points"
    assert _level(item) == 17


def test_an_encounter_whose_services_no_stock_follows_waits_for_nothing(
    own: Society, worker_tasks: None
) -> None:
    _water(own)
    encounter = people_actions.record_encounter(own.actor(), register(own), services=[("food", 1)])
    assert not Encounter.objects.get(pk=encounter.pk).stock_pending


def test_a_drain_that_fails_half_way_leaves_everything_waiting(
    own: Society, worker_tasks: None
) -> None:
    item = _water(own)
    person = register(own)
    people_actions.record_encounter(own.actor(), person, services=[("water", 4)])

    class CrashError(Exception):
        pass

    def crash_after_taking() -> None:
        with transaction.atomic():
            assert stock_use.take_waiting(own.point.pk) == 1
            raise CrashError  # the drain's transaction never commits

    with pytest.raises(CrashError):
        crash_after_taking()
    assert _level(item) == 20
    assert stock_use.waiting_at(own.point).count == 1
    assert not StockMovement.objects.filter(reason="used").exists()
    stock_use.take_all_waiting()
    assert _level(item) == 16
    assert StockMovement.objects.filter(reason="used").count() == 1


def test_an_encounter_moves_an_item_once_whatever_else_tries(
    own: Society, worker_tasks: None
) -> None:
    item = _water(own)
    encounter = people_actions.record_encounter(own.actor(), register(own), services=[("water", 2)])
    stock_use.take_all_waiting()
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(
            item=item, change=-2, level_after=16, reason="used", encounter_id=encounter.pk
        )
    assert _level(item) == 18


def test_a_drain_warns_once_when_an_item_falls_to_its_minimum(
    own: Society, worker_tasks: None
) -> None:
    item = _water(own, level=10, minimum=5)
    person = register(own)
    for _ in range(3):
        people_actions.record_encounter(own.actor(), person, services=[("water", 2)])
    stock_use.take_all_waiting()
    assert _level(item) == 4
    warned = Notification.objects.filter(title__startswith="Low stock")
    assert {n.user for n in warned} == {own.coordinator, own.focal_point}
    assert all("4 bottles left" in n.title for n in warned)
    people_actions.record_encounter(own.actor(), person, services=[("water", 1)])
    stock_use.take_all_waiting()
    assert warned.count() == 2  # already low: not again


def test_a_correction_waiting_with_what_it_corrects_gives_back_what_that_took(
    own: Society, worker_tasks: None
) -> None:
    item = _water(own, level=50)
    person = register(own)
    first = people_actions.record_encounter(own.actor(), person, services=[("water", 5)])
    second = people_actions.record_encounter(
        own.actor(), person, services=[("water", 3)], corrects=first
    )
    people_actions.void_encounter(own.actor(), second, reason="never came")
    assert stock_use.waiting_at(own.point).count == 3
    stock_use.take_all_waiting()
    assert _level(item) == 50
    used = StockMovement.objects.filter(item=item, reason="used").order_by("level_after")
    assert sorted(movement.change for movement in used) == [-5, 2, 3]


def test_a_count_takes_what_was_handed_out_before_it(own: Society, worker_tasks: None) -> None:
    item = _water(own, level=20)
    people_actions.record_encounter(own.actor(), register(own), services=[("water", 6)])
    # The coordinator counts the shelf, which the encounter's bottles already left.
    stock.count_level(own.actor("coordinator"), item, 14)
    stock_use.take_all_waiting()
    assert _level(item) == 14
    assert stock_use.waiting_at(own.point).count == 0


def test_the_stock_page_says_how_far_behind_its_levels_are(
    own: Society, worker_tasks: None, web: Callable[..., Client]
) -> None:
    _water(own)
    person = register(own)
    people_actions.record_encounter(own.actor(), person, services=[("water", 1)])
    people_actions.record_encounter(own.actor(), person, services=[("water", 1)])
    client = web(own.coordinator, own.point)
    page = client.get("/flows/stock/").content.decode()
    assert 'data-testid="stock-waiting"' in page
    assert "2 encounters recorded since then are not taken from them yet" in page
    stock_use.take_all_waiting()
    assert 'data-testid="stock-waiting"' not in client.get("/flows/stock/").content.decode()


def test_the_stock_api_says_how_many_encounters_its_levels_do_not_hold_yet(
    own: Society, worker_tasks: None, api: Callable[..., Client]
) -> None:
    item = _water(own)
    people_actions.record_encounter(own.actor(), register(own), services=[("water", 3)])
    coordinator = api(own.coordinator, own.point)
    [listed] = coordinator.get("/api/v1/flows/stock").json()
    assert (listed["level"], listed["encounters_waiting"]) == (20, 1)
    stock_use.take_all_waiting()
    [listed] = coordinator.get("/api/v1/flows/stock").json()
    assert (listed["id"], listed["level"], listed["encounters_waiting"]) == (str(item.pk), 17, 0)


def test_where_tasks_run_in_the_request_the_stock_is_taken_after_the_commit(
    own: Society, django_capture_on_commit_callbacks: Any
) -> None:
    # The tests' default, as `make run` and a field node: tasks run at once.
    item = _water(own)
    with django_capture_on_commit_callbacks(execute=True):
        people_actions.record_encounter(own.actor(), register(own), services=[("water", 2)])
    assert _level(item) == 18
    assert stock_use.waiting_at(own.point).count == 0


def _burst(own: Society, writers: int, each: int) -> int:
    """``writers`` threads recording ``each`` encounters (every fifth corrects the one
    before), two threads draining all along; the water the current encounters took."""
    people = [register(own) for _ in range(4)]
    done = threading.Event()
    failures: list[BaseException] = []
    taken = [0] * writers

    def write(number: int) -> None:
        try:
            previous, previous_quantity = None, 0
            for index in range(each):
                quantity = 1 + (number + index) % 3
                person = people[(number + index) % len(people)]
                corrects = previous if index % 5 == 4 and previous is not None else None
                if corrects is not None:
                    person = corrects.person
                encounter = people_actions.record_encounter(
                    own.actor(), person, services=[("water", quantity), ("first-aid", 1)],
                    corrects=corrects,
                )  # fmt: skip
                taken[number] += quantity - (previous_quantity if corrects else 0)
                previous, previous_quantity = encounter, quantity
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connection.close()

    def drain() -> None:
        try:
            while not done.is_set():
                stock_use.take_all_waiting()
        except BaseException as error:  # reported below
            failures.append(error)
        finally:
            connection.close()

    writing = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    draining = [threading.Thread(target=drain) for _ in range(2)]
    for thread in writing + draining:
        thread.start()
    for thread in writing:
        thread.join()
    done.set()
    for thread in draining:
        thread.join()
    assert failures == []
    stock_use.take_all_waiting()
    return sum(taken)


def _check_totals(own: Society, item: StockItem, level: int, taken: int, encounters: int) -> None:
    assert _level(item) == level - taken
    assert stock_use.waiting_at(own.point).count == 0
    used = StockMovement.objects.filter(item=item, reason="used")
    assert sum(used.values_list("change", flat=True)) == -taken
    # One movement per encounter at most (a correction's give-back and take are one).
    assert used.count() == len(set(used.values_list("encounter_id", flat=True)))
    assert Encounter.objects.filter(service_point=own.point).count() == encounters
    # The indicators count what the stock took.
    rollups.refresh_since(timezone.now() - dt.timedelta(hours=1))
    water = ServiceRollup.objects.filter(service_point=own.point, service="water")
    assert sum(water.values_list("quantity", flat=True)) == taken


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_writers_and_drains_at_once_takes_every_bottle_once(
    own: Society, worker_tasks: None
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("writers at once: PostgreSQL (SQLite takes one writer at a time)")
    item = _water(own, level=100_000, minimum=0)
    taken = _burst(own, writers=4, each=15)
    _check_totals(own, item, 100_000, taken, encounters=60)


def test_a_burst_then_a_drain_takes_every_bottle_once(own: Society, worker_tasks: None) -> None:
    item = _water(own, level=100_000, minimum=0)
    person = register(own)
    taken, previous, previous_quantity = 0, None, 0
    for index in range(40):
        quantity = 1 + index % 3
        corrects = previous if index % 5 == 4 else None
        previous = people_actions.record_encounter(
            own.actor(), person, services=[("water", quantity)], corrects=corrects
        )
        taken += quantity - (previous_quantity if corrects else 0)
        previous_quantity = quantity
        if index == 20:
            stock_use.take_all_waiting()  # a drain in the middle of the burst
    stock_use.take_all_waiting()
    _check_totals(own, item, 100_000, taken, encounters=40)
