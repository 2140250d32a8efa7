"""Rate limits that hold across server processes (counted in the database) and store no
address: a client is an HMAC of its address and the current window, under the server's
secret key, so a row says nothing about who sent the requests, and two windows of one client
cannot be linked."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from routecare.core import caching
from routecare.core.models import RateWindow


def client_address(request: HttpRequest) -> str:
    """The address the request came from. Behind a proxy, set ``ROUTECARE_TRUSTED_PROXY``
    so the last address the proxy added is used instead (never the client's own claim)."""
    if settings.ROUTECARE_TRUSTED_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return str(hops[-1])
    return str(request.META.get("REMOTE_ADDR", ""))


def _window(now: dt.datetime, seconds: int) -> dt.datetime:
    epoch = int(now.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % seconds, tz=dt.UTC)


def _client(scope: str, address: str, window: dt.datetime) -> str:
    key = settings.SECRET_KEY.encode()
    message = f"{scope}|{address}|{window.isoformat()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _client_window(
    scope: str, request: HttpRequest, seconds: int, now: dt.datetime | None
) -> tuple[str, dt.datetime]:
    """The client's key and the current window."""
    window = _window(now or timezone.now(), seconds)
    return _client(scope, client_address(request), window), window


def _rows(scope: str, client: str, window: dt.datetime) -> QuerySet[RateWindow]:
    return RateWindow.objects.filter(scope=scope, client=client, window_start=window)


def _current(
    scope: str, request: HttpRequest, seconds: int, now: dt.datetime | None
) -> tuple[QuerySet[RateWindow], str, dt.datetime]:
    """The client's row for the current window (as a queryset), its client key and window."""
    client, window = _client_window(scope, request, seconds, now)
    return _rows(scope, client, window), client, window


def allow(
    scope: str, request: HttpRequest, *, limit: int, seconds: int, now: dt.datetime | None = None
) -> bool:
    """Count this request; False when the client already made ``limit`` in the window."""
    rows, client, window = _current(scope, request, seconds, now)
    caching.changed(_cache_kind(scope))  # this process reads ``refused`` afresh
    return _count(rows, scope, client, window, limit)


def allow_for(
    scope: str, subject: str, *, limit: int, seconds: int, now: dt.datetime | None = None
) -> bool:
    """``allow`` counted per ``subject`` (e.g. a staff member's id) instead of per address:
    a limit on what one person does, from wherever they work. Hashed like an address."""
    window = _window(now or timezone.now(), seconds)
    client = _client(scope, f"subject:{subject}", window)
    return _count(_rows(scope, client, window), scope, client, window, limit)


def _count(
    rows: QuerySet[RateWindow], scope: str, client: str, window: dt.datetime, limit: int
) -> bool:
    with transaction.atomic():
        if rows.filter(count__gte=limit).exists():
            return False
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateWindow.objects.create(
                        scope=scope, client=client, window_start=window, count=1
                    )
            except IntegrityError:  # another process created it first
                rows.update(count=F("count") + 1)
    return True


def blocked(
    scope: str, request: HttpRequest, *, limit: int, seconds: int, now: dt.datetime | None = None
) -> bool:
    """Whether the client already made ``limit`` requests of this kind in the window (without
    counting this one): for limits on failures, counted only when they happen."""
    rows, _client_key, _window_start = _current(scope, request, seconds, now)
    return rows.filter(count__gte=limit).exists()


# How long a process keeps "this client is not refused" once read (``refused``): a refusal
# counted by another server process reaches it within this time.
CLEAR_SECONDS = 10


def _cache_kind(scope: str) -> str:
    return f"ratelimit-{scope}"


def refused(scope: str, request: HttpRequest, *, limit: int, seconds: int) -> bool:
    """``blocked``, for a check on every request: the answer is kept for ``CLEAR_SECONDS``
    (core.caching), and ``allow`` in this process makes it read again."""
    client, window = _client_window(scope, request, seconds, None)

    def read() -> bool:
        # Built only when not cached: making the queryset costs more than the cache lookup.
        return _rows(scope, client, window).filter(count__gte=limit).exists()

    # A bool: shared as it is, no copy per request.
    return caching.remember(_cache_kind(scope), (client,), CLEAR_SECONDS, read, shared=True)


def forget_passed(now: dt.datetime | None = None) -> int:
    """Delete the windows that ended (the periodic job): one hour is the longest window."""
    now = now or timezone.now()
    deleted, _ = RateWindow.objects.filter(window_start__lt=now - dt.timedelta(hours=1)).delete()
    return deleted
