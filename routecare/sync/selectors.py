"""Scoped reads for the server's sync pages: a society's nodes and its sync conflicts.

Nodes are the business of the society's focal points; conflicts are shown to its coordinators
and focal points. Another society's node or conflict does not exist here (404).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from routecare.access import Actor, Rule, allows
from routecare.audit.actions import record_event
from routecare.orgs.models import ServicePoint
from routecare.sync import nodes, registry
from routecare.sync.models import HeldChange, Node, SyncConflict

RESOLVED_SHOWN = 50


def _parse_id(raw: str | uuid.UUID) -> uuid.UUID:
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw))
    except ValueError as error:
        raise Http404 from error


@dataclass(frozen=True)
class NodeRow:
    node: Node
    held: int  # changes from this node waiting on the server for a record they need

    @property
    def backlog(self) -> int:
        """What the node said was waiting to be sent, plus what waits here."""
        return self.node.backlog + self.held


def node_rows(actor: Actor) -> list[NodeRow]:
    found = nodes.nodes_of(actor)
    held = dict(
        HeldChange.objects.filter(node__in=[node.pk for node in found])
        .values("node")
        .annotate(count=Count("pk"))
        .values_list("node", "count")
    )
    return [NodeRow(node, held.get(node.pk, 0)) for node in found]


def node_of(actor: Actor, node_id: str | uuid.UUID) -> Node:
    """One node of the actor's society that the actor may manage; any other is a 404."""
    node = (
        Node.objects.select_related("service_point", "revoked_by")
        .filter(pk=_parse_id(node_id), national_society_id=actor.national_society_id)
        .first()
    )
    if node is None or not nodes.may_manage_nodes(actor, node.service_point):
        raise Http404
    return node


def enrolment_points(actor: Actor) -> QuerySet[ServicePoint]:
    """The service points a focal point may create an enrolment code for."""
    if not allows(actor, Rule.SOCIETY_ADMIN):
        return ServicePoint.objects.none()
    return ServicePoint.objects.filter(national_society_id=actor.national_society_id).exclude(
        status=ServicePoint.Status.CLOSED
    )


def _conflicts(actor: Actor) -> QuerySet[SyncConflict]:
    if not allows(actor, Rule.COORDINATION) or actor.national_society_id is None:
        return SyncConflict.objects.none()
    return SyncConflict.objects.filter(national_society_id=actor.national_society_id)


def conflict_of(actor: Actor, conflict_id: str | uuid.UUID) -> SyncConflict:
    conflict = _conflicts(actor).filter(pk=_parse_id(conflict_id)).first()
    if conflict is None:
        raise Http404
    return conflict


def readable(value: Any) -> list[str]:
    """A conflict's value as lines a coordinator can read: one line per list item, an object
    as "key: value" pairs; nothing at all as no line."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, list):
        return [line for item in value for line in (readable(item) or ["—"])]
    if isinstance(value, dict):
        parts = [
            f"{key}: {', '.join(readable(inner)) or '—'}"
            for key, inner in value.items()
            if inner not in (None, "", [])
        ]
        return ["; ".join(parts) or "—"]
    if isinstance(value, bool | int | float | str):
        return [str(value)]
    return [json.dumps(value, default=str)]


def combinable(conflict: SyncConflict) -> bool:
    """Both values are lists (or one is empty): they can be combined into their union."""
    values = (conflict.server_value, conflict.node_value)
    return all(value is None or isinstance(value, list) for value in values) and any(
        isinstance(value, list) for value in values
    )


@dataclass(frozen=True)
class ConflictRow:
    conflict: SyncConflict
    short_code: str | None  # the person's, when the record belongs to one still held here
    server_lines: list[str]
    node_lines: list[str]
    combinable: bool


def _short_codes(actor: Actor, person_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The short codes of the people the conflicts are about, each read audited.

    The sync app knows no app by name: the people are the records of the syncable that names
    its own records as the person (``person_field == "pk"``), and the short code is among what
    it syncs. Only staff who handle their society's personal records read them."""
    syncable = next((s for s in registry.all_syncables() if s.person_field == "pk"), None)
    if syncable is None or not person_ids or not actor.handles_personal_records:
        return {}
    found = syncable.model._default_manager.filter(
        pk__in=person_ids, national_society_id=actor.national_society_id
    )
    codes: dict[uuid.UUID, str] = {}
    for person in found:
        code = syncable.serialize(person).get("short_code")
        record_event(actor, "read", "person", person.pk, person_id=person.pk, fields=["short_code"])
        codes[person.pk] = str(code or "")
    return codes


def _rows(actor: Actor, conflicts: list[SyncConflict], with_values: bool) -> list[ConflictRow]:
    # Resolved conflicts name no one: reading (and auditing) people for history is not needed.
    people = {c.person_id for c in conflicts if c.person_id is not None} if with_values else set()
    codes = _short_codes(actor, people)
    return [
        ConflictRow(
            conflict=conflict,
            short_code=codes.get(conflict.person_id) if conflict.person_id else None,
            server_lines=readable(conflict.server_value) if with_values else [],
            node_lines=readable(conflict.node_value) if with_values else [],
            combinable=combinable(conflict),
        )
        for conflict in conflicts
    ]


def open_conflicts(actor: Actor) -> list[ConflictRow]:
    found = list(
        _conflicts(actor)
        .filter(resolved_at__isnull=True)
        .select_related("node")
        .order_by("created_at")
    )
    return _rows(actor, found, with_values=True)


def resolved_conflicts(actor: Actor) -> list[ConflictRow]:
    found = list(
        _conflicts(actor)
        .filter(resolved_at__isnull=False)
        .select_related("node", "resolved_by")
        .order_by("-resolved_at")[:RESOLVED_SHOWN]
    )
    return _rows(actor, found, with_values=False)
