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


_SYNCABLES: dict[str, Syncable] = {}


def register(syncable: Syncable) -> Syncable:
    _SYNCABLES[syncable.label] = syncable
    return syncable


def syncable(label: str) -> Syncable | None:
    return _SYNCABLES.get(label)


def known(label: str) -> Syncable:
    """A label the wire format already checked (``changes.parse``)."""
    return _SYNCABLES[label]


def syncable_for(model: type[models.Model]) -> Syncable | None:
    for candidate in _SYNCABLES.values():
        if candidate.model is model:
            return candidate
    return None


def all_syncables() -> list[Syncable]:
    return list(_SYNCABLES.values())
