"""Merging a node's change into the server's record, from the version both started from.

Pure functions: no database. A field changed on one side only takes that side's value; a
field changed the same way on both sides is no conflict; a field changed differently on both
sides is a conflict for a coordinator, never last-write-wins. List fields declared as sets
merge three-way: what either side added is added, what either side removed stays removed.
Counters (a number, or an object of numbers such as people by sex and age) travel as deltas:
the server adds what the node added since its base, so two writers or a replayed change never
count twice (a replay is caught earlier, by the change id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def merge_sets(base: list[Any], ours: list[Any], theirs: list[Any]) -> list[Any]:
    """Three-way set merge, keeping the server's order and then the node's additions."""
    base_keys = {_key(item) for item in base}
    ours_keys = {_key(item) for item in ours}
    theirs_keys = {_key(item) for item in theirs}
    removed = (base_keys - ours_keys) | (base_keys - theirs_keys)
    merged: list[Any] = []
    seen: set[str] = set()
    for item in [*ours, *theirs]:
        key = _key(item)
        if key in removed or key in seen:
            continue
        seen.add(key)
        merged.append(item)
    return merged


@dataclass
class Merged:
    values: dict[str, Any] = field(default_factory=dict)  # what to write on the server
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field: (server, node)


def add_delta(current: Any, before: Any, wanted: Any) -> Any:
    """``current`` plus what changed from ``before`` to ``wanted``: numbers, or objects of
    numbers key by key (a key missing on a side counts as 0)."""
    if isinstance(wanted, dict) or isinstance(current, dict):
        current, before, wanted = current or {}, before or {}, wanted or {}
        keys = list(dict.fromkeys([*current, *wanted, *before]))
        merged = {k: add_delta(current.get(k), before.get(k), wanted.get(k)) for k in keys}
        return {k: v for k, v in merged.items() if v != 0 or k in current or k in wanted}
    return int(current or 0) + int(wanted or 0) - int(before or 0)


def merge(
    base: dict[str, Any],
    server: dict[str, Any],
    node: dict[str, Any],
    sets: frozenset[str],
    counters: frozenset[str] = frozenset(),
) -> Merged:
    """``base``: the values the node's change started from; ``server``: the server's values
    now; ``node``: the values the node wants. Only fields the node changed are considered."""
    result = Merged()
    for name, wanted in node.items():
        before = base.get(name)
        if _key(wanted) == _key(before):
            continue  # the node did not change it
        current = server.get(name)
        if name in counters:
            result.values[name] = add_delta(current, before, wanted)
            continue
        if _key(current) == _key(wanted):
            continue  # already so
        if _key(current) == _key(before):
            result.values[name] = wanted  # changed on the node only
        elif name in sets:
            result.values[name] = merge_sets(before or [], current or [], wanted or [])
        else:
            result.conflicts[name] = (current, wanted)
    return result
