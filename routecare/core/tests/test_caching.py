"""core.caching: answers kept per generation, copied or shared."""

from __future__ import annotations

import time
from typing import Any

import pytest

from routecare.core import caching


def _counting() -> tuple[list[int], Any]:
    calls: list[int] = []

    def compute() -> dict[str, list[int]]:
        calls.append(1)
        return {"values": [1, 2, 3]}

    return calls, compute


def test_a_copied_answer_is_computed_once_and_each_caller_gets_a_copy() -> None:
    calls, compute = _counting()
    first = caching.remember("test-kind", ("a",), 30, compute)
    first["values"].append(4)  # a caller changing its copy changes nobody else's
    again = caching.remember("test-kind", ("a",), 30, compute)
    assert again == {"values": [1, 2, 3]}
    assert len(calls) == 1


def test_a_shared_answer_is_the_same_object_until_a_change() -> None:
    calls, compute = _counting()
    first = caching.remember("test-kind", ("a",), 30, compute, shared=True)
    assert caching.remember("test-kind", ("a",), 30, compute, shared=True) is first
    assert caching.remember("test-kind", ("b",), 30, compute, shared=True) is not first
    assert len(calls) == 2
    caching.changed("test-kind")
    assert caching.remember("test-kind", ("a",), 30, compute, shared=True) is not first
    assert len(calls) == 3


def test_a_shared_answer_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, compute = _counting()
    caching.remember("test-kind", ("a",), 30, compute, shared=True)
    later = time.monotonic() + 31
    monkeypatch.setattr(time, "monotonic", lambda: later)
    caching.remember("test-kind", ("a",), 30, compute, shared=True)
    assert len(calls) == 2


def test_the_shared_store_keeps_the_most_recently_used_answers() -> None:
    store = caching.SharedStore(max_entries=2)
    store.set("a", 1, 30)
    store.set("b", 2, 30)
    assert store.get("a") == 1  # a is now the most recently used
    store.set("c", 3, 30)
    assert store.get("b") is None
    assert (store.get("a"), store.get("c")) == (1, 3)


def test_no_answer_is_kept_when_there_is_none() -> None:
    calls: list[int] = []

    def nothing() -> None:
        calls.append(1)

    for shared in (False, True):
        caching.remember("test-kind", ("none",), 30, nothing, shared=shared)
        caching.remember("test-kind", ("none",), 30, nothing, shared=shared)
    assert len(calls) == 4
