"""Short-lived caches of answers many requests share: who an API token is, a dashboard, a
public directory page.

Each kind of answer has a *generation* that a change bumps, and it is part of every key: the
process that makes a change never serves an answer from before it. Django's default cache is
per process (settings.CACHES), so another process of a multi-process server sees the change
when its entry expires: after at most the few seconds each kind allows (docs/operations.md).
Entries are pickled, so every hit is a fresh copy that a request may change freely; answers
that no caller changes and that are costly to copy (a dashboard: 5 ms to unpickle) may be kept
as the object itself instead (``remember(..., shared=True)``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")


# Kinds named "page:…" hold whole pages: they live in a cache of their own with fewer entries
# (settings.CACHES["pages"]), so a flood of distinct addresses cannot push other answers out
# or fill the memory.
PAGE_PREFIX = "page:"


def _store(kind: str) -> BaseCache:
    return caches["pages" if kind.startswith(PAGE_PREFIX) else "default"]


def generation(kind: str) -> int:
    # A generation that is missing (new, or evicted) starts from the clock, never from a value
    # that keys already stored could carry.
    name, cache = f"generation:{kind}", _store(kind)
    value = cache.get(name)
    if value is None:
        cache.add(name, time.time_ns(), timeout=None)
        value = cache.get(name, time.time_ns())
    return int(value)


def changed(*kinds: str) -> None:
    """Something the kinds' answers depend on changed: their entries are never served again."""
    for kind in kinds:
        try:
            _store(kind).incr(f"generation:{kind}")
        except ValueError:  # missing: the next read starts a new one
            generation(kind)


def changed_with_transaction(*kinds: str) -> None:
    """``changed`` now and again when the current transaction commits: a request that read
    the old rows meanwhile cannot leave them cached under the new generation."""
    changed(*kinds)
    transaction.on_commit(lambda: changed(*kinds))


def drop_on_change(kind: str, *models: type[Model]) -> None:
    """Every save or delete of these models drops the kind's answers (``changed_with_transaction``);
    for an app's ``ready()``. Queryset ``update()`` sends no signal: entries then expire."""

    def dropped(sender: Any, **kwargs: Any) -> None:
        changed_with_transaction(kind)

    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(
                dropped, sender=model, weak=False, dispatch_uid=f"{kind}-{model._meta.label}"
            )


def key(kind: str, *parts: Any) -> str:
    """The entry of ``parts`` (anything with a stable repr) in the current generation; hashed,
    so long parts never make an over-long key and no part is readable in the cache."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    return f"{kind}:{generation(kind)}:{digest}"


class SharedStore:
    """This process's answers kept as objects (not copies), least recently used out first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, entry: str) -> Any:
        with self._lock:
            found = self._entries.get(entry)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._entries[entry]
                return None
            self._entries.move_to_end(entry)
            return found[1]

    def set(self, entry: str, value: Any, timeout: int) -> None:
        """As Django's caches: kept for ``timeout`` seconds."""
        with self._lock:
            self._entries[entry] = (time.monotonic() + timeout, value)
            self._entries.move_to_end(entry)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


SHARED = SharedStore(settings.ROUTECARE_SHARED_CACHE_ENTRIES)


def remember(
    kind: str,
    parts: tuple[Any, ...],
    seconds: int,
    compute: Callable[[], T],
    *,
    shared: bool = False,
) -> T:
    """The cached answer for ``parts``, or ``compute()`` kept for ``seconds``. ``shared``: the
    very object is handed to every caller in this process, so none may change it."""
    entry = key(kind, *parts)
    cache: BaseCache | SharedStore = SHARED if shared else _store(kind)
    found = cache.get(entry)
    if found is not None:
        answer: T = found
        return answer
    answer = compute()
    cache.set(entry, answer, timeout=seconds)
    return answer
