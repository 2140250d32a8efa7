"""Encounters as a field node pulls them (issue 22, the write path): the server keeps no sync
version row for an encounter, which is created once and never changed, and finds the new ones
by when they were recorded; the mark of stock still to take stays on the server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from routecare.conftest import Society, register
from routecare.flows import stock
from routecare.people import actions
from routecare.people.models import Encounter
from routecare.sync import nodes, pull
from routecare.sync.models import RecordVersion


def _pulled_encounters(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        record["row"]["id"]: record
        for record in answer["records"]
        if record["label"] == "people.encounter"
    }


def test_a_node_pulls_encounters_recorded_since_its_last_pull_without_version_rows(
    own: Society, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    stock.save_item(
        own.actor("coordinator"), own.point, kind="water", name="Water 1.5 l",
        service="water", level=20,
    )  # fmt: skip
    code = nodes.create_enrolment_code(own.actor("focal_point"), own.point)
    node = nodes.enroll(code, "Lajas Blancas laptop").node
    person = register(own)
    before = actions.record_encounter(own.actor(), person, services=[("water", 1)])
    since = timezone.now()
    Encounter.objects.filter(pk=before.pk).stock_taken()
    # At the society's other point: the person is not new to the node's point, so the
    # encounter goes down only as a record recorded since the last pull.
    stock.save_item(
        own.actor("coordinator", own.second_point), own.second_point, kind="water",
        name="Water 1.5 l", service="water", level=20,
    )  # fmt: skip
    later = actions.record_encounter(
        own.actor(point=own.second_point), person, services=[("water", 2)],
        occurred_at=timezone.now() - dt.timedelta(days=3),  # a visit entered late
    )  # fmt: skip
    assert not RecordVersion.objects.filter(label="people.encounter").exists()
    assert Encounter.objects.get(pk=later.pk).stock_pending  # the server's stock waits

    first = _pulled_encounters(pull.page(node, None, 0))
    assert set(first) == {str(before.pk), str(later.pk)}
    # Found by when it was recorded, whenever the visit happened.
    again = _pulled_encounters(pull.page(node, since + pull.OVERLAP, 0))
    assert set(again) == {str(later.pk)}
    record = again[str(later.pk)]
    assert record["version"] == 1
    assert "stock_pending" not in record["row"]
    assert [line["quantity"] for line in record["children"]["EncounterService"]] == [2]
    # Long after: nothing new.
    assert _pulled_encounters(pull.page(node, timezone.now() + pull.OVERLAP, 0)) == {}
