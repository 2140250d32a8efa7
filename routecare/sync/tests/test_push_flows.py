"""Daily counts and stock pushed from field nodes: they travel as what was added, never as
totals, so that two writers and a change sent again never count twice."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from routecare.conftest import Society
from routecare.flows import actions, stock
from routecare.flows.models import DailyCount, DailyCountContribution, StockItem, StockMovement
from routecare.indicators.models import PeopleRollup
from routecare.indicators.rollups import refresh_since
from routecare.people.models import Encounter
from routecare.sync import nodes
from routecare.sync.models import AppliedChange, Node, OutboxChange
from routecare.sync.tests.conftest import EnrolNode
from routecare.sync.tests.test_push import _encounter_change, _hlc, _outcomes, _person_change, _push

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def node(own: Society) -> tuple[Node, str]:
    code = nodes.create_enrolment_code(own.actor("focal_point"), own.point)
    enrolment = nodes.enroll(code, "Lajas Blancas laptop")
    return enrolment.node, enrolment.credential


@pytest.fixture
def second_node(own: Society) -> tuple[Node, str]:
    code = nodes.create_enrolment_code(own.actor("focal_point"), own.point)
    enrolment = nodes.enroll(code, "Lajas Blancas tablet")
    return enrolment.node, enrolment.credential


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args: TODAY)


def _count_values(point: Any, people: int, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "service_point": str(point.pk), "day": TODAY.isoformat(), "people": people,
        "new_arrivals": 0, "departures": 0, "by_sex_and_age": {}, "nationalities": {},
        "staff_on_duty": None,
    }  # fmt: skip
    values.update(extra)
    return values


def _count_change(
    node: Node, by: str, values: dict[str, Any], record_id: str | None = None,
    base: dict[str, Any] | None = None, base_version: int = 0,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": str(uuid.uuid4()), "label": "flows.daily_count",
        "record_id": record_id or str(uuid.uuid4()), "op": "update" if base else "create",
        "base_version": base_version, "base": base or {}, "values": values, "by": by,
        "hlc": _hlc(node),
    }  # fmt: skip


def _day(own: Society) -> DailyCount:
    return DailyCount.objects.get(service_point=own.point, day=TODAY)


# Daily counts ---------------------------------------------------------------------------


def test_a_count_made_offline_applies_once_however_often_it_is_sent(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    change = _count_change(
        found, own.coordinator.username,
        _count_values(own.point, 12, new_arrivals=5, by_sex_and_age={"female": {"18-59": 12}},
                      nationalities={"VE": 7}),
    )  # fmt: skip
    assert _outcomes(_push(credential, [change]))[0]["outcome"] == "applied"
    for _again in range(3):
        assert _outcomes(_push(credential, [change]))[0]["outcome"] == "duplicate"
    count = _day(own)
    assert (str(count.pk), count.people, count.new_arrivals) == (change["record_id"], 12, 5)
    assert count.by_sex_and_age == {"female": {"18-59": 12}}
    assert count.nationalities == {"VE": 7}
    assert count.entered_by == own.coordinator


def test_a_node_adds_to_a_day_counted_online_under_another_id_and_corrects_by_difference(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    online = actions.record_daily_count(
        own.actor("coordinator"), day=TODAY, people=10, new_arrivals=4,
        by_sex_and_age={"male": {"18-59": 10}}, nationalities={"HN": 3},
    )  # fmt: skip
    first = _count_values(own.point, 4, new_arrivals=2, by_sex_and_age={"male": {"18-59": 1},
                          "female": {"0-4": 3}}, nationalities={"HN": 1, "VE": 2})  # fmt: skip
    created = _count_change(found, own.coordinator.username, first)
    assert _outcomes(_push(credential, [created]))[0]["outcome"] == "applied"
    count = _day(own)
    assert count.pk == online.pk  # one row per point and day, not a second one
    assert (count.people, count.new_arrivals) == (14, 6)
    assert count.by_sex_and_age == {"male": {"18-59": 11}, "female": {"0-4": 3}}
    assert count.nationalities == {"HN": 4, "VE": 2}
    # The node corrects its row: the server has no row under that id, only the difference.
    corrected = _count_values(own.point, 7, new_arrivals=2, by_sex_and_age={"male": {"18-59": 4},
                              "female": {"0-4": 3}}, nationalities={"HN": 1, "VE": 2})  # fmt: skip
    update = _count_change(
        found, own.coordinator.username, corrected, created["record_id"], first, 1
    )
    assert _outcomes(_push(credential, [update]))[0]["outcome"] in ("applied", "merged")
    assert _outcomes(_push(credential, [update]))[0]["outcome"] == "duplicate"
    count = _day(own)
    assert (count.people, count.by_sex_and_age["male"]) == (17, {"18-59": 14})
    assert DailyCount.objects.filter(service_point=own.point).count() == 1
    contribution = DailyCountContribution.objects.get(pk=created["record_id"])
    assert contribution.added["people"] == 7


def test_two_nodes_and_the_server_adding_to_one_day_never_count_twice(
    own: Society, node: tuple[Node, str], second_node: tuple[Node, str]
) -> None:
    (first_node, first_credential), (other_node, other_credential) = node, second_node
    by = own.coordinator.username
    mine = _count_change(first_node, by, _count_values(own.point, 5))
    theirs = _count_change(other_node, by, _count_values(own.point, 5))  # the same numbers
    assert _outcomes(_push(first_credential, [mine]))[0]["outcome"] == "applied"
    assert _outcomes(_push(other_credential, [theirs]))[0]["outcome"] == "applied"
    assert _day(own).people == 10
    # The first node's row is the server's row: its correction merges as a delta from its base
    # although the second node added meanwhile.
    later = _count_change(
        first_node, by, _count_values(own.point, 8), mine["record_id"],
        _count_values(own.point, 5), 1,
    )  # fmt: skip
    outcome = _outcomes(_push(first_credential, [later]))[0]
    assert outcome["outcome"] == "merged", outcome
    assert _day(own).people == 13
    assert _outcomes(_push(first_credential, [later, mine]))[0]["outcome"] == "duplicate"
    assert _day(own).people == 13


def test_a_staff_figure_given_differently_in_two_places_is_a_conflict_resolved_online(
    own: Society, node: tuple[Node, str]
) -> None:
    from routecare.sync.actions import resolve_conflict
    from routecare.sync.models import SyncConflict

    found, credential = node
    by = own.coordinator.username
    first = _count_change(found, by, _count_values(own.point, 5, staff_on_duty=3))
    _outcomes(_push(credential, [first]))
    actions.record_daily_count(own.actor("coordinator"), day=TODAY, people=5, staff_on_duty=4)
    later = _count_change(
        found, by, _count_values(own.point, 7, staff_on_duty=6), first["record_id"],
        _count_values(own.point, 5, staff_on_duty=3), 1,
    )  # fmt: skip
    assert _outcomes(_push(credential, [later]))[0]["outcome"] == "conflict"
    assert (_day(own).people, _day(own).staff_on_duty) == (7, 4)  # the counts still add up
    conflict = SyncConflict.objects.get(field="staff_on_duty")
    assert (conflict.server_value, conflict.node_value) == (4, 6)
    resolve_conflict(own.actor("focal_point", point=own.second_point), conflict, "node")
    assert (_day(own).people, _day(own).staff_on_duty) == (7, 6)


def test_a_node_sends_the_counts_of_its_own_point_only_and_as_a_coordinator(
    own: Society, other: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    elsewhere = _count_change(found, own.coordinator.username, _count_values(own.second_point, 3))
    other_society = _count_change(found, own.coordinator.username, _count_values(other.point, 3))
    as_other = _count_change(found, other.coordinator.username, _count_values(own.point, 3))
    as_volunteer = _count_change(found, own.volunteer.username, _count_values(own.point, 3))
    outcomes = _outcomes(_push(credential, [elsewhere, other_society, as_other, as_volunteer]))
    assert [o["outcome"] for o in outcomes] == ["refused"] * 4
    assert "own point" in outcomes[0]["message"]
    assert DailyCount.objects.count() == 0
    assert AppliedChange.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"people": "ten"}, "number"),
        ({"people": -3}, "number"),
        ({"people": 2, "new_arrivals": 5}, "More than"),
        ({"by_sex_and_age": {"dragon": {"18-59": 3}}}, "Unknown sex"),
        ({"by_sex_and_age": {"female": {"18-59": 9}}}, "more than"),
        ({"nationalities": {"XX": 1}}, "country code"),
        ({"day": "yesterday"}, "Not a date"),
        ({"day": "2026-12-25"}, "not come yet"),
    ],
)
def test_bad_counts_are_refused_with_a_clear_message_and_store_nothing(
    own: Society, node: tuple[Node, str], values: dict[str, Any], message: str
) -> None:
    found, credential = node
    change = _count_change(
        found, own.coordinator.username, {**_count_values(own.point, 3), **values}
    )
    outcome = _outcomes(_push(credential, [change]))[0]
    assert (outcome["outcome"], outcome["status"]) == ("refused", 422)
    assert message in outcome["message"]
    assert DailyCount.objects.count() == 0
    assert AppliedChange.objects.count() == 0


def test_an_applied_count_reaches_the_indicators(own: Society, node: tuple[Node, str]) -> None:
    found, credential = node
    before = timezone.now()
    change = _count_change(found, own.coordinator.username, _count_values(own.point, 9))
    _outcomes(_push(credential, [change]))
    assert _day(own).updated_at >= before  # what the rollup refresh looks for
    refresh_since(before)
    rows = PeopleRollup.objects.filter(scope_id=own.point.pk, period_start=TODAY, counted=9)
    assert rows.exists()


# Stock ----------------------------------------------------------------------------------


@pytest.fixture
def water(own: Society) -> StockItem:
    return stock.save_item(
        own.actor("coordinator"), own.point, kind="water", name="Water 1.5 l", service="water",
        level=100,
    )  # fmt: skip


def _movement_change(
    node: Node, by: str, item: StockItem, change: Any, reason: str = "counted"
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()), "label": "flows.stock_movement", "record_id": str(uuid.uuid4()),
        "op": "create", "base_version": 0, "base": {},
        "values": {"item": str(item.pk), "change": change, "reason": reason,
                   "at": timezone.now().isoformat()},
        "by": by, "hlc": _hlc(node),
    }  # fmt: skip


def _level(item: StockItem) -> int:
    item.refresh_from_db()
    return item.level


def test_an_encounter_pushed_from_a_node_takes_stock_once_on_the_server(
    own: Society,
    node: tuple[Node, str],
    water: StockItem,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    found, credential = node
    person = _person_change(found, own.volunteer.username)
    encounter = _encounter_change(found, own.volunteer.username, person["record_id"])
    with django_capture_on_commit_callbacks(execute=True):
        _outcomes(_push(credential, [person, encounter]))
    assert _level(water) == 98
    with django_capture_on_commit_callbacks(execute=True):
        again = _outcomes(_push(credential, [person, encounter]))
    assert [o["outcome"] for o in again] == ["duplicate", "duplicate"]
    assert _level(water) == 98
    assert Encounter.objects.count() == 1
    used = StockMovement.objects.filter(item=water, reason="used")
    assert [m.change for m in used] == [-2]


def test_a_stock_count_made_offline_travels_as_its_change_once(
    own: Society, node: tuple[Node, str], water: StockItem
) -> None:
    found, credential = node
    stock.count_level(own.actor("coordinator"), water, 90)  # online meanwhile: 100 → 90
    change = _movement_change(found, own.coordinator.username, water, -5)
    assert _outcomes(_push(credential, [change]))[0]["outcome"] == "applied"
    assert _outcomes(_push(credential, [change]))[0]["outcome"] == "duplicate"
    assert _level(water) == 85  # both writers' changes, each once
    movement = StockMovement.objects.get(pk=change["record_id"])
    assert (movement.change, movement.level_after, movement.by) == (-5, 85, own.coordinator)


def test_stock_of_another_point_or_moved_by_encounters_is_refused(
    own: Society, other: Society, node: tuple[Node, str], water: StockItem
) -> None:
    found, credential = node
    theirs = stock.save_item(
        other.actor("coordinator"), other.point, kind="water", name="Water", level=50
    )
    changes = [
        _movement_change(found, own.coordinator.username, theirs, -5),
        _movement_change(found, own.coordinator.username, water, -5, reason="used"),
        _movement_change(found, own.coordinator.username, water, "lots"),
        _movement_change(found, own.coordinator.username, water, 10**9),
        _movement_change(found, own.volunteer.username, water, -5),
    ]
    outcomes = _outcomes(_push(credential, changes))
    assert [o["outcome"] for o in outcomes] == ["refused"] * 5
    assert "encounters" in outcomes[1]["message"]
    assert (_level(water), _level(theirs)) == (100, 50)
    assert not StockMovement.objects.filter(pk__in=[c["record_id"] for c in changes]).exists()


def test_a_node_sends_its_counts_and_stock_counts_but_not_what_encounters_take(
    own: Society, water: StockItem, settings: Any
) -> None:
    settings.ROUTECARE_NODE = True
    actions.record_daily_count(own.actor("coordinator"), day=TODAY, people=3)
    stock.count_level(own.actor("coordinator"), water, 80)
    stock.use_for_encounter(own.point, [("water", 4)], uuid.uuid4())
    labels = sorted(OutboxChange.objects.values_list("label", flat=True))
    assert labels == ["flows.daily_count", "flows.stock_movement"]
    assert _level(water) == 76


# A real node ----------------------------------------------------------------------------

NODE_WORK = """
import datetime as dt
from django.contrib.auth.models import User
from routecare.access import build_actor
from routecare.flows import actions, stock
from routecare.flows.models import StockItem
from routecare.people import actions as people
actor = build_actor(User.objects.get(username="{coordinator}"), "{point}", via="web")
actions.record_daily_count(actor, day=dt.date.fromisoformat("{day}"), people={people})
water = StockItem.objects.get(name="Water 1.5 l")
stock.count_level(actor, water, water.level - 10)
person = people.register_person(actor, sex="male", age_band="18-59", consent_language="es")
people.record_encounter(actor, person, services=[("water", 2)])
print(StockItem.objects.get(pk=water.pk).level)
"""


@pytest.mark.django_db(transaction=True)
def test_a_real_node_adds_its_counts_and_stock_to_the_servers_once(
    enrolled_node: EnrolNode, own: Society, live_server: Any, water: StockItem
) -> None:
    from routecare.cards.keys import ensure_keys

    ensure_keys(own.society.network)  # a node gets its card key at enrolment
    online = actions.record_daily_count(own.actor("coordinator"), day=TODAY, people=10)
    node = enrolled_node(own, live_server.url)  # pulls the point's stock items
    work = node.python(
        NODE_WORK.format(
            coordinator=own.coordinator.username, point=own.point.pk, day=TODAY, people=4
        )
    )
    out, err = work.communicate(timeout=120)
    assert work.returncode == 0, err
    assert out.split() == ["88"]  # 100 counted down to 90, then 2 taken by the encounter
    stock.count_level(own.actor("coordinator"), water, 150)  # online meanwhile: +50
    node.run("node", "sync")
    node.run("node", "sync")  # again: nothing twice
    assert _day(own).pk == online.pk
    assert _day(own).people == 14  # 10 counted online + 4 at the node
    assert _level(water) == 138  # 150 - 10 counted at the node - 2 taken by the encounter
    assert StockMovement.objects.filter(item=water, reason="used").count() == 1
    assert "changes waiting: 0" in node.run("node", "status").stdout
    # The node corrects its count: only the difference travels.
    corrected = node.python(
        NODE_WORK.split("water = ")[0].format(
            coordinator=own.coordinator.username, point=own.point.pk, day=TODAY, people=6
        )
    )
    _out, err = corrected.communicate(timeout=120)
    assert corrected.returncode == 0, err
    node.run("node", "sync")
    assert _day(own).people == 16
    # The node's stock item now reads the server's level.
    assert node.says("""
        from routecare.flows.models import StockItem
        print(StockItem.objects.get(name="Water 1.5 l").level)
    """) == "138"  # fmt: skip
