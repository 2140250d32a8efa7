"""Short-lived caches of answers many requests share: who an API token is, a dashboard, a
public directory page.

Each kind of answer has a *generation* that a change bumps, and it is part of every key: the
process that makes a change never serves an answer from before it. Without ``REDIS_URL`` the
generations and answers live in this process (settings.CACHES), so another process of a
multi-process server sees the change when its entry expires: after at most the few seconds
each kind allows (docs/operations.md). Entries are pickled, so every hit is a fresh copy that a
request may change freely; answers that no caller changes and that are costly to copy (a
dashboard: 5 ms to unpickle) may be kept as the object itself instead
(``remember(..., shared=True)``).

With ``REDIS_URL`` the generations live in Redis (a counter per kind, no expiry) and are read
on every ``remember``, so a change bumped in any process or server is seen by every other at
its next request. Answers still live in the process, keyed by the Redis generation, except
whole public pages: a "page:…" kind's answer that is a page body (bytes) is kept in Redis, as
JSON with its generation, for every process to share. Nothing else goes there: a token's actor
names a user and a point, card keys are keys, and neither may leave the process; Redis holds
nothing pickled. When Redis cannot be reached, answers are computed afresh (never served from
a generation that cannot be checked) and a change reaches other processes when their entries
expire, as without Redis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar, cast

import redis
from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

logger = logging.getLogger(__name__)


# Kinds named "page:…" hold whole pages: they live in a cache of their own with fewer entries
# (settings.CACHES["pages"]), so a flood of distinct addresses cannot push other answers out
# or fill the memory. Their bodies are public (the same for everyone who asks): with Redis they
# are the only answers shared between processes.
PAGE_PREFIX = "page:"

# A Redis that does not answer within this time is taken as unreachable: a request then computes
# its answer rather than wait.
REDIS_TIMEOUT_SECONDS = 0.5

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis() -> redis.Redis | None:
    """The client of settings.REDIS_URL (one connection pool per process), or None without."""
    url: str = settings.REDIS_URL
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        with _clients_lock:
            client = _clients.get(url)
            if client is None:
                client = _clients[url] = redis.Redis.from_url(
                    url,
                    socket_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                )
    return client


def _redis_name(*parts: str) -> str:
    prefix: str = settings.ROUTECARE_REDIS_PREFIX
    return prefix + ":".join(parts)


def _store(kind: str) -> BaseCache:
    return caches["pages" if kind.startswith(PAGE_PREFIX) else "default"]


def _local_generation(kind: str) -> int:
    # A generation that is missing (new, or evicted) starts from the clock, never from a value
    # that keys already stored could carry.
    name, cache = f"generation:{kind}", _store(kind)
    value = cache.get(name)
    if value is None:
        cache.add(name, time.time_ns(), timeout=None)
        value = cache.get(name, time.time_ns())
    return int(value)


def _start_shared_generation(client: redis.Redis, kind: str) -> int:
    # As in the process: a missing counter (new, or Redis emptied) starts from the clock.
    pipe = client.pipeline()
    pipe.set(_redis_name("generation", kind), time.time_ns(), nx=True)
    pipe.get(_redis_name("generation", kind))
    _created, value = pipe.execute()
    return int(value)


def generation(kind: str) -> int:
    client = _redis()
    if client is None:
        return _local_generation(kind)
    value = client.get(_redis_name("generation", kind))
    if value is None:
        return _start_shared_generation(client, kind)
    return int(cast(bytes, value))


def changed(*kinds: str) -> None:
    """Something the kinds' answers depend on changed: their entries are never served again."""
    client = _redis()
    if client is not None:
        try:
            pipe = client.pipeline()  # MULTI: a missing counter starts from the clock, +1
            for kind in kinds:
                pipe.set(_redis_name("generation", kind), time.time_ns(), nx=True)
                pipe.incr(_redis_name("generation", kind))
            pipe.execute()
        except redis.RedisError as error:
            # The change itself must not fail for it: other processes then see it when their
            # entries expire (docs/operations.md), this one computes afresh while Redis is away.
            logger.error("Redis unreachable, caches of %s not invalidated: %s", kinds, error)
        return
    for kind in kinds:
        try:
            _store(kind).incr(f"generation:{kind}")
        except ValueError:  # missing: the next read starts a new one
            _local_generation(kind)


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


def _digest(parts: tuple[Any, ...]) -> str:
    # Hashed, so long parts never make an over-long key and no part is readable in the cache.
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def key(kind: str, *parts: Any) -> str:
    """The entry of ``parts`` (anything with a stable repr) in the current generation."""
    return f"{kind}:{generation(kind)}:{_digest(parts)}"


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
    digest = _digest(parts)
    cache: BaseCache | SharedStore = SHARED if shared else _store(kind)
    client = _redis()
    if client is None:
        return _remember_here(cache, f"{kind}:{_local_generation(kind)}:{digest}", seconds, compute)
    try:
        current, page = _read_shared(client, kind, digest)
    except redis.RedisError as error:
        logger.warning("Redis unreachable, %s computed afresh: %s", kind, error)
        return compute()
    if page is not None:
        return cast(T, page)
    if not kind.startswith(PAGE_PREFIX):
        return _remember_here(cache, f"{kind}:{current}:{digest}", seconds, compute)
    entry = f"{kind}:{current}:{digest}"
    found = cache.get(entry)  # a page kind's answer that is not a page body
    if found is not None:
        return cast(T, found)
    answer = compute()
    if not _share_page(client, kind, digest, current, answer, seconds) and answer is not None:
        cache.set(entry, answer, timeout=seconds)
    return answer


def _remember_here(
    cache: BaseCache | SharedStore, entry: str, seconds: int, compute: Callable[[], T]
) -> T:
    found = cache.get(entry)
    if found is not None:
        answer: T = found
        return answer
    answer = compute()
    cache.set(entry, answer, timeout=seconds)
    return answer


def _read_shared(client: redis.Redis, kind: str, digest: str) -> tuple[int, bytes | None]:
    """The kind's generation in Redis and, for a page kind, the page body kept there in that
    generation (one round trip)."""
    if not kind.startswith(PAGE_PREFIX):
        value = client.get(_redis_name("generation", kind))
        if value is None:
            return _start_shared_generation(client, kind), None
        return int(cast(bytes, value)), None
    value, stored = cast(
        list[bytes | None],
        client.mget([_redis_name("generation", kind), _redis_name("answer", kind, digest)]),
    )
    if value is None:
        return _start_shared_generation(client, kind), None
    current = int(value)
    if stored is None:
        return current, None
    try:
        kept = json.loads(stored)
    except ValueError:
        return current, None
    # A body drawn in an earlier generation is as good as missing: it is drawn again.
    if not isinstance(kept, dict) or kept.get("generation") != current:
        return current, None
    body = kept.get("page")
    return current, body.encode() if isinstance(body, str) else None


def _share_page(
    client: redis.Redis, kind: str, digest: str, current: int, answer: Any, seconds: int
) -> bool:
    """Keep a page body in Redis, as JSON with the generation it was drawn in; False when the
    answer is no page body (it is then kept in the process)."""
    if not isinstance(answer, bytes):
        return False
    try:
        text = answer.decode()
    except UnicodeDecodeError:
        return False
    kept = json.dumps({"generation": current, "page": text}, ensure_ascii=False)
    try:
        client.set(_redis_name("answer", kind, digest), kept, ex=seconds)
    except redis.RedisError as error:
        logger.warning("Redis unreachable, %s page not kept: %s", kind, error)
    return True
