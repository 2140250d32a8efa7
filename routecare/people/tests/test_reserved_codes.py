"""Short codes minted offline: the server reserves a block of codes for each field node
(topped up at each pull), a node registers people only with codes of its block, and the
server never mints a reserved code, so two places never mint the same code."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from routecare.conftest import Society, register
from routecare.people import shortcode
from routecare.people.models import Person, ReservedShortCode
from routecare.people.sync import RESERVED_PER_NODE, serialize_person
from routecare.sync import clock, nodes
from routecare.sync.models import Node
from routecare.sync.pull import page


def _node(society: Society, point: Any = None) -> tuple[Node, str]:
    code = nodes.create_enrolment_code(society.actor("focal_point"), point or society.point)
    enrolment = nodes.enroll(code, "Lajas Blancas laptop")
    return enrolment.node, enrolment.credential


def _pulled_codes(node: Node) -> list[dict[str, Any]]:
    references = {group["label"]: group["rows"] for group in page(node, None, 0)["references"]}
    rows: list[dict[str, Any]] = references["people.reservedshortcode"]
    return rows


def test_each_node_pulls_a_block_of_valid_codes_and_two_nodes_never_share_one(
    own: Society, other: Society
) -> None:
    first, _ = _node(own)
    second, _ = _node(own, own.second_point)
    elsewhere, _ = _node(other)
    blocks = [{row["code"] for row in _pulled_codes(node)} for node in (first, second, elsewhere)]
    assert [len(block) for block in blocks] == [RESERVED_PER_NODE] * 3
    assert not blocks[0] & blocks[1]
    assert not blocks[0] & blocks[2]
    assert not blocks[1] & blocks[2]
    for block in blocks:
        for code in block:
            compact = shortcode.normalise(code)
            assert compact is not None
            assert shortcode.is_valid(compact)
    # The block travels without the node's own mark of what it used.
    assert all("used" not in row for row in _pulled_codes(first))
    # Pulling again tops up, it does not reserve a second block.
    assert {row["code"] for row in _pulled_codes(first)} == blocks[0]
    assert ReservedShortCode.objects.count() == 3 * RESERVED_PER_NODE


def test_a_block_never_holds_a_code_the_society_already_uses(
    own: Society, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ROUTECARE_RESERVED_SHORT_CODES = 3
    taken = register(own).short_code
    draws = iter([taken, "RC-0000-000", "RC-0000-01Y", "RC-0000-02W", "RC-0000-03U"])
    monkeypatch.setattr(shortcode, "draw", lambda: next(draws))
    node, _ = _node(own)
    codes = {row["code"] for row in _pulled_codes(node)}
    assert taken not in codes
    assert len(codes) == 3


def test_the_server_never_mints_a_reserved_code(
    own: Society, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, _ = _node(own)
    reserved = ReservedShortCode.objects.create(code="RC-7K3M-9Q4", node_id=node.pk)
    draws = iter([reserved.code, reserved.code, "RC-7K3M-9R2"])
    monkeypatch.setattr(shortcode, "draw", lambda: next(draws))
    person = register(own)
    assert person.short_code == "RC-7K3M-9R2"


def test_a_node_registers_offline_with_its_reserved_codes(own: Society, settings: Any) -> None:
    node, _ = _node(own)
    block = {row["code"] for row in _pulled_codes(node)}
    settings.ROUTECARE_NODE = True
    people = [register(own) for _n in range(3)]
    codes = {person.short_code for person in people}
    assert len(codes) == 3
    assert codes <= block
    assert set(ReservedShortCode.objects.filter(used=True).values_list("code", flat=True)) == codes


def test_a_pull_never_frees_a_code_the_node_used(own: Society, settings: Any) -> None:
    from routecare.sync import client as sync_client

    node, _ = _node(own)
    rows = _pulled_codes(node)
    settings.ROUTECARE_NODE = True
    person = register(own)
    sync_client._install_references(
        [{"label": "people.reservedshortcode", "rows": rows}], sync_client.PullReport()
    )
    assert ReservedShortCode.objects.get(code=person.short_code).used
    assert register(own).short_code != person.short_code


def test_an_empty_block_gives_a_clear_message_and_no_person(own: Society, settings: Any) -> None:
    settings.ROUTECARE_NODE = True
    with pytest.raises(ValidationError) as refused:
        register(own)
    assert "No short codes left at this node: sync to get more." in refused.value.messages
    assert not Person.objects.exists()


def test_the_registration_page_says_the_block_is_empty(
    own: Society, settings: Any, web: Callable[..., Client]
) -> None:
    settings.ROUTECARE_NODE = True
    client = web(own.volunteer, own.point)
    response = client.post(
        "/people/register/",
        {"sex": "female", "age_band": "18-59", "travel_group": "alone", "person_language": "es",
         "consents": ["care"], "consent_language": "es"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "No short codes left at this node: sync to get more." in response.content.decode()
    assert not Person.objects.exists()


def test_the_server_accepts_a_person_under_the_code_the_node_minted(
    own: Society, settings: Any
) -> None:
    node, credential = _node(own)
    _pulled_codes(node)
    settings.ROUTECARE_NODE = True
    at_node = register(own)  # one database plays the node here, then the server
    minted = at_node.short_code
    values = json.loads(json.dumps(serialize_person(at_node), default=str))
    at_node.delete()
    settings.ROUTECARE_NODE = False
    change = {
        "id": str(uuid.uuid4()), "label": "people.person", "record_id": str(uuid.uuid4()),
        "op": "create", "base_version": 0, "base": {}, "values": values,
        "by": own.volunteer.username, "hlc": clock.tick("", str(node.pk), None),
    }  # fmt: skip
    response = Client().post(
        "/api/v1/sync/push", json.dumps({"changes": [change]}), content_type="application/json",
        headers={"Authorization": f"Bearer {credential}"},
    )  # fmt: skip
    assert response.json()["outcomes"][0]["outcome"] == "applied", response.content
    assert Person.objects.get(pk=change["record_id"]).short_code == minted
    # At the next pull the server counts it as used and tops the block up again.
    codes = {row["code"] for row in _pulled_codes(node)}
    assert minted not in codes
    assert len(codes) == RESERVED_PER_NODE
    assert ReservedShortCode.objects.get(code=minted).used
