"""What each app syncs between a field node and its server, declared in the app's ``sync.py``.

An app registers one ``Syncable`` per model: the fields that travel, how each merges, the
records it needs first, and the functions that apply a change through the app's own actions
(so tenant and role rules, validation and audit are exactly those of an online write). The
sync app reads this registry and knows no app by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from routecare.access import Actor

Values = dict[str, Any]


@dataclass(frozen=True)
class Syncable:
    """One model that travels from nodes to the server.

    ``fields`` are the values a change carries; ``sets`` are list fields merged three-way as
    sets from the base (an allergy deleted on one side stays deleted); ``counters`` add the
    node's delta to the server's value; every other field merges field by field, and a field
    changed differently on both sides since the base is a conflict. ``immutable`` records
    (encounters) are created once and never changed: two places, two encounters.
    """

    label: str  # "people.person": stable on the wire
    model: type[models.Model]
    fields: tuple[str, ...]
    serialize: Callable[[Any], Values]
    create: Callable[[Actor, uuid.UUID, Values], models.Model]
    update: Callable[[Actor, Any, Values], models.Model] | None = None
    sets: frozenset[str] = frozenset()
    # Numbers (or objects of numbers) that travel as deltas from the base: daily counts.
    counters: frozenset[str] = frozenset()
    immutable: bool = False
    # The records a change needs before it can apply: (label, id) pairs, from the record's
    # id and the values it carries.
    parents: Callable[[uuid.UUID, Values], list[tuple[str, str]]] = lambda record_id, values: []
    # Who made the record's latest change (a username): the server applies it as them.
    author: Callable[[Any], str] = lambda record: ""
    # For what nodes pull: the field naming the person the record belongs to ("pk" for a
    # person), and child rows that travel inside it (an encounter's services: model, fk).
    person_field: str | None = None
    children: tuple[tuple[type[models.Model], str], ...] = ()
    # Fields of the row that stay on the server (work it still has to do for the record).
    withheld: frozenset[str] = frozenset()
    # For an immutable record, the field saying when it was created on the server: nodes
    # pull new ones by it, so the server keeps no version row for them (one INSERT less on
    # the write path of every encounter).
    created_field: str = ""


@dataclass(frozen=True)
class Reference:
    """Reference data a node pulls whole at each sync (service points, routes, staff…):
    ``rows(node)`` gives the model's rows that node may hold. Fields in ``withheld`` never
    leave the server (password hashes: a node has its own sign-in credentials)."""

    label: str
    model: type[models.Model]
    rows: Callable[[Any], models.QuerySet[Any]]
    withheld: frozenset[str] = frozenset()
    # What a node does with its rows of the model that the server no longer sends (a staff
    # member moved to another point, say), before it installs the rows sent; None: keeps them.
    absent: Callable[[models.QuerySet[Any]], object] | None = None


# Which people a node holds: ``all(point_id, now)`` the ids of people relevant to the point;
# ``new(point_id, since)`` those who became relevant since (their whole record goes down).
@dataclass(frozen=True)
class Relevance:
    all: Callable[[Any, Any], models.QuerySet[Any]]
    new: Callable[[Any, Any], models.QuerySet[Any]]


_SYNCABLES: dict[str, Syncable] = {}
_REFERENCES: dict[str, Reference] = {}
_RELEVANCE: list[Relevance] = []


def register_reference(reference: Reference) -> Reference:
    _REFERENCES[reference.label] = reference
    return reference


def references() -> list[Reference]:
    return list(_REFERENCES.values())


def register_relevance(relevance: Relevance) -> Relevance:
    if relevance not in _RELEVANCE:
        _RELEVANCE.append(relevance)
    return relevance


def relevances() -> list[Relevance]:
    return list(_RELEVANCE)


def register(syncable: Syncable) -> Syncable:
    _SYNCABLES[syncable.label] = syncable
    return syncable


def syncable(label: str) -> Syncable | None:
    return _SYNCABLES.get(label)


def known(label: str) -> Syncable:
    """A label the wire format already checked (``changes.parse``)."""
    return _SYNCABLES[label]


def is_person(label: str) -> bool:
    """The record that is a person (the others belong to one)."""
    found = _SYNCABLES.get(label)
    return found is not None and found.person_field == "pk"


def syncable_for(model: type[models.Model]) -> Syncable | None:
    for candidate in _SYNCABLES.values():
        if candidate.model is model:
            return candidate
    return None


def all_syncables() -> list[Syncable]:
    return list(_SYNCABLES.values())
