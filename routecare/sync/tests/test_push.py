"""The server applying what nodes push: once, never overwritten, merged field by field."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.conftest import Society
from routecare.people.models import Consent, Encounter, FollowUp, HealthSummary, Person
from routecare.sync import clock, nodes
from routecare.sync.models import AppliedChange, HeldChange, Node, SyncConflict


@pytest.fixture
def node(own: Society) -> tuple[Node, str]:
    code = nodes.create_enrolment_code(own.actor("focal_point"), own.point)
    enrolment = nodes.enroll(code, "Lajas Blancas laptop")
    return enrolment.node, enrolment.credential


def _hlc(node: Node, when: dt.datetime | None = None) -> str:
    return clock.tick("", str(node.pk), when)


def _person_change(
    node: Node, by: str, person_id: uuid.UUID | None = None, **values: Any
) -> dict[str, Any]:
    person_id = person_id or uuid.uuid4()
    fields = {
        "sex": "female", "age_band": "18-59", "birth_year": None, "nationality": "HN",
        "languages": ["es"], "travel_group": "alone", "population_group": "on-the-move",
        "alias": "", "vulnerabilities": [], "short_code": None,
        "consents": [{"id": str(uuid.uuid4()), "purpose": "care", "language": "es"}],
    }  # fmt: skip
    fields.update(values)
    return {
        "id": str(uuid.uuid4()), "label": "people.person", "record_id": str(person_id),
        "op": "create", "base_version": 0, "base": {}, "values": fields, "by": by,
        "hlc": _hlc(node),
    }  # fmt: skip


def _encounter_change(node: Node, by: str, person_id: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()), "label": "people.encounter", "record_id": str(uuid.uuid4()),
        "op": "create", "base_version": 0, "base": {},
        "values": {"person": person_id, "occurred_at": timezone.now().isoformat(),
                   "triage": "green", "notes": "", "services": [["water", 2]], "corrects": None},
        "by": by, "hlc": _hlc(node),
    }  # fmt: skip


def _push(credential: str, changes: list[Any], **extra: Any) -> Any:
    body = json.dumps({"changes": changes, **extra})
    return Client().post(
        "/api/v1/sync/push", body, content_type="application/json",
        headers={"Authorization": f"Bearer {credential}"},
    )  # fmt: skip


def _outcomes(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    outcomes: list[dict[str, Any]] = response.json()["outcomes"]
    return outcomes


def test_it_applies_a_person_registered_offline_once_however_often_it_is_sent(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    change = _person_change(found, own.volunteer.username)
    first = _outcomes(_push(credential, [change]))
    assert first[0]["outcome"] == "applied"
    for _replay in range(5):
        again = _outcomes(_push(credential, [change]))
        assert again[0]["outcome"] == "duplicate"
    person = Person.objects.get(pk=change["record_id"])
    assert person.national_society_id == own.society.pk
    assert person.registered_at_point_id == own.point.pk
    assert Person.objects.count() == 1
    consent = Consent.objects.get(person=person)
    assert str(consent.pk) == change["values"]["consents"][0]["id"]
    assert AuditEvent.objects.filter(action="sync", object_id=str(person.pk)).count() == 1
    assert AppliedChange.objects.count() == 1


def test_the_same_change_id_with_other_content_is_a_409_never_an_overwrite(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    change = _person_change(found, own.volunteer.username)
    _outcomes(_push(credential, [change]))
    forged = {**change, "values": {**change["values"], "nationality": "GT"}}
    outcome = _outcomes(_push(credential, [forged]))[0]
    assert (outcome["outcome"], outcome["status"]) == ("mismatch", 409)
    assert Person.objects.get(pk=change["record_id"]).nationality == "HN"


def test_an_encounter_before_its_person_is_held_then_applied(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    person = _person_change(found, own.volunteer.username)
    encounter = _encounter_change(found, own.volunteer.username, person["record_id"])
    held = _outcomes(_push(credential, [encounter]))[0]
    assert (held["outcome"], held["status"]) == ("held", 202)
    assert HeldChange.objects.count() == 1
    assert Encounter.objects.count() == 0
    assert _outcomes(_push(credential, [encounter]))[0]["outcome"] == "held"
    _outcomes(_push(credential, [person]))
    assert HeldChange.objects.count() == 0
    made = Encounter.objects.get(pk=encounter["record_id"])
    assert [(s.service, s.quantity) for s in made.services.all()] == [("water", 2)]
    assert _outcomes(_push(credential, [encounter]))[0]["outcome"] == "duplicate"
    assert Encounter.objects.count() == 1


def _health_change(
    node: Node, by: str, person_id: uuid.UUID, base_version: int, base: dict[str, Any],
    values: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": str(uuid.uuid4()), "label": "people.health_summary", "record_id": str(person_id),
        "op": "update", "base_version": base_version, "base": base, "values": values, "by": by,
        "hlc": _hlc(node),
    }  # fmt: skip


def test_lists_merge_three_way_and_a_field_changed_in_two_places_is_a_conflict(
    own: Society, node: tuple[Node, str], own_person: Person
) -> None:
    found, credential = node
    from routecare.people import actions
    from routecare.sync.capture import current_version

    base = {"allergies": ["penicillin"], "pregnancy": None, "medicines": []}
    version = current_version("people.health_summary", own_person.pk)
    # Meanwhile at the server: sulfa added, pregnancy recorded.
    actions.update_health_summary(
        own.actor("coordinator"), own_person, allergies=["penicillin", "sulfa"],
        pregnancy={"weeks": 20, "expected_date": None},
    )  # fmt: skip
    # At the node, from the same base: penicillin removed, latex added, another pregnancy.
    change = _health_change(
        found, own.volunteer.username, own_person.pk, version, base,
        {"allergies": ["latex"], "pregnancy": {"weeks": 22, "expected_date": None},
         "medicines": []},
    )  # fmt: skip
    outcome = _outcomes(_push(credential, [change]))[0]
    assert outcome["outcome"] == "conflict"
    summary = HealthSummary.objects.get(person=own_person)
    assert sorted(summary.allergies) == ["latex", "sulfa"]  # penicillin stays deleted
    assert summary.pregnancy == {"weeks": 20, "expected_date": None}  # kept until chosen
    conflict = SyncConflict.objects.get()
    assert conflict.field == "pregnancy"
    assert conflict.node_value == {"weeks": 22, "expected_date": None}
    assert conflict.server_value == {"weeks": 20, "expected_date": None}
    assert (conflict.node_chosen_by, conflict.server_chosen_by) == (
        own.volunteer.username, own.coordinator.username,
    )  # fmt: skip


def test_a_node_cannot_push_into_another_societys_records(
    own: Society, other: Society, node: tuple[Node, str], other_person: Person
) -> None:
    found, credential = node
    encounter = _encounter_change(found, own.volunteer.username, str(other_person.pk))
    outcome = _outcomes(_push(credential, [encounter]))[0]
    assert outcome["outcome"] == "refused"
    as_other = _person_change(found, other.volunteer.username)
    assert _outcomes(_push(credential, [as_other]))[0]["outcome"] == "refused"
    assert Encounter.objects.filter(person=other_person).count() == 1  # the fixture's own
    assert Person.objects.filter(pk=as_other["record_id"]).count() == 0


def test_bad_changes_get_their_own_answer_and_store_nothing(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    good = _person_change(found, own.volunteer.username)
    future = _person_change(found, own.volunteer.username)
    future["hlc"] = _hlc(found, timezone.now() + dt.timedelta(hours=25))
    invalid = _person_change(found, own.volunteer.username, sex="dragon")
    outcomes = _outcomes(
        _push(credential, [{"id": "x"}, "text", future, invalid, good,
                           {**good, "id": str(uuid.uuid4()), "label": "people.nothing"}])
    )  # fmt: skip
    assert [o["outcome"] for o in outcomes] == [
        "refused", "refused", "refused", "refused", "applied", "refused",
    ]  # fmt: skip
    assert "24 hours" in outcomes[2]["message"]
    assert Person.objects.count() == 1
    assert AppliedChange.objects.count() == 1


def test_malformed_oversized_and_unauthenticated_batches_change_nothing(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    client = Client()
    headers = {"Authorization": f"Bearer {credential}"}
    not_json = client.post(
        "/api/v1/sync/push", "{", content_type="application/json", headers=headers
    )
    assert not_json.status_code == 400
    no_list = _push(credential, [], changes_extra=1)
    assert no_list.status_code == 200
    wrong = client.post("/api/v1/sync/push", json.dumps({"changes": 3}),
                        content_type="application/json", headers=headers)  # fmt: skip
    assert wrong.status_code == 400
    big = [_person_change(found, own.volunteer.username, alias="x" * 50) for _n in range(2000)]
    assert _push(credential, big).status_code in (400, 413)
    stranger = client.post("/api/v1/sync/push", json.dumps({"changes": []}),
                           content_type="application/json",
                           headers={"Authorization": "Bearer rcn_nothing"})  # fmt: skip
    assert stranger.status_code == 401
    assert Person.objects.count() == 0


def test_a_revoked_node_is_refused_at_its_next_sync(own: Society, node: tuple[Node, str]) -> None:
    found, credential = node
    nodes.revoke_node(own.actor("focal_point"), found, "stolen")
    response = _push(credential, [_person_change(found, own.volunteer.username)])
    assert response.status_code == 403
    assert "revoked" in response.json()["detail"]
    assert Person.objects.count() == 0


def test_an_enrolment_code_works_once_and_only_for_a_day(own: Society) -> None:
    code = nodes.create_enrolment_code(own.actor("focal_point"), own.point)
    client = Client()
    answer = client.post("/api/v1/sync/enroll", {"code": code.lower(), "name": "tent laptop"},
                         content_type="application/json")  # fmt: skip
    assert answer.status_code == 200
    assert answer.json()["service_point_id"] == str(own.point.pk)
    again = client.post("/api/v1/sync/enroll", {"code": code, "name": "thief"},
                        content_type="application/json")  # fmt: skip
    assert again.status_code == 400
    assert Node.objects.count() == 1
    with pytest.raises(PermissionError):
        nodes.create_enrolment_code(own.actor("volunteer"), own.point)


def test_follow_ups_and_consent_withdrawals_travel(own: Society, node: tuple[Node, str]) -> None:
    found, credential = node
    person = _person_change(found, own.volunteer.username)
    consent_id = person["values"]["consents"][0]["id"]
    share: dict[str, Any] = {
        "id": str(uuid.uuid4()), "label": "people.consent", "record_id": str(uuid.uuid4()),
        "op": "create", "base_version": 0, "base": {},
        "values": {"person": person["record_id"], "purpose": "share-network", "language": "es",
                   "withdrawn": False},
        "by": own.volunteer.username, "hlc": _hlc(found),
    }  # fmt: skip
    follow_up: dict[str, Any] = {
        "id": str(uuid.uuid4()), "label": "people.follow_up", "record_id": str(uuid.uuid4()),
        "op": "create", "base_version": 0, "base": {},
        "values": {"person": person["record_id"], "encounter": None, "text": "insulin refill",
                   "due": None, "urgency": "routine", "done": False},
        "by": own.volunteer.username, "hlc": _hlc(found),
    }  # fmt: skip
    outcomes = _outcomes(_push(credential, [person, share, follow_up]))
    assert [o["outcome"] for o in outcomes] == ["applied", "applied", "applied"]
    withdraw = {
        **share, "id": str(uuid.uuid4()), "op": "update", "base_version": 1,
        "base": share["values"], "values": {**share["values"], "withdrawn": True},
    }  # fmt: skip
    assert _outcomes(_push(credential, [withdraw]))[0]["outcome"] == "applied"
    assert Consent.objects.get(pk=share["record_id"]).withdrawn_at is not None
    assert Consent.objects.get(pk=consent_id).withdrawn_at is None
    assert FollowUp.objects.get(pk=follow_up["record_id"]).text == "insulin refill"


def test_an_encounter_from_a_node_whose_clock_runs_two_hours_ahead_keeps_its_time(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    person = _person_change(found, own.volunteer.username)
    encounter = _encounter_change(found, own.volunteer.username, person["record_id"])
    ahead = timezone.now() + dt.timedelta(hours=2)
    encounter["values"]["occurred_at"] = ahead.isoformat()
    encounter["hlc"] = _hlc(found, ahead)
    outcomes = _outcomes(_push(credential, [person, encounter]))
    assert [o["outcome"] for o in outcomes] == ["applied", "applied"]
    assert Encounter.objects.get(pk=encounter["record_id"]).occurred_at == ahead


def test_a_withdrawal_made_at_a_node_withdraws_the_encounter_on_the_server(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    person = _person_change(found, own.volunteer.username)
    encounter = _encounter_change(found, own.volunteer.username, person["record_id"])
    voiding = _encounter_change(found, own.volunteer.username, person["record_id"])
    voiding["values"].update(
        {"services": [], "corrects": encounter["record_id"], "voids": True, "notes": "wrong person"}
    )
    outcomes = _outcomes(_push(credential, [person, encounter, voiding]))
    assert [o["outcome"] for o in outcomes] == ["applied", "applied", "applied"]
    assert Encounter.objects.get(pk=voiding["record_id"]).voids is True
    assert not Encounter.objects.current().filter(person_id=person["record_id"]).exists()


def test_erasing_a_person_drops_their_conflicts_and_refuses_their_changes(
    own: Society, node: tuple[Node, str], own_person: Person
) -> None:
    found, credential = node
    from routecare.sync.capture import current_version

    version = current_version("people.health_summary", own_person.pk)
    base = {"pregnancy": None}
    from routecare.people import actions

    actions.update_health_summary(
        own.actor(), own_person, pregnancy={"weeks": 12, "expected_date": None}
    )
    change = _health_change(
        found, own.volunteer.username, own_person.pk, version, base,
        {"pregnancy": {"weeks": 14, "expected_date": None}},
    )  # fmt: skip
    assert _outcomes(_push(credential, [change]))[0]["outcome"] == "conflict"
    assert SyncConflict.objects.filter(person_id=own_person.pk).count() == 1
    Person.objects.filter(pk=own_person.pk).delete()
    assert SyncConflict.objects.filter(person_id=own_person.pk).count() == 0
    later = {**change, "id": str(uuid.uuid4())}
    assert _outcomes(_push(credential, [later]))[0]["outcome"] == "erased"
