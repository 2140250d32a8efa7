"""Who a token is stays cached for a few seconds, and every change in this process shows at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from routecare.access import ACCESS
from routecare.accounts.actions import (
    ACTOR_SECONDS,
    actor_for_token,
    create_api_token,
    revoke_api_token,
    token_digest,
)
from routecare.conftest import Society
from routecare.core import caching
from routecare.orgs.models import ServicePoint


def _token_queries(raw: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert actor_for_token(raw) is not None
    return sum("accounts_apitoken" in query["sql"] for query in queries.captured_queries)


def test_a_token_is_looked_up_once_then_served_from_the_cache(own: Society) -> None:
    _token, raw = create_api_token(own.volunteer, "tablet", own.point)
    assert _token_queries(raw) >= 1
    assert _token_queries(raw) == 0
    actor = actor_for_token(raw)
    assert actor is not None
    assert actor.service_point == own.point
    assert actor.via == "api"
    # Never the password hash in a cached actor.
    assert "password" in actor.user.get_deferred_fields()


def test_revoking_refuses_the_token_at_once(own: Society) -> None:
    token, raw = create_api_token(own.volunteer, "tablet", own.point)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/faq").status_code == 200
    revoke_api_token(token)
    assert client.get("/api/v1/faq").status_code == 401


def test_deactivating_the_user_refuses_the_token_at_once(own: Society) -> None:
    _token, raw = create_api_token(own.volunteer, "tablet", own.point)
    assert actor_for_token(raw) is not None
    own.volunteer.is_active = False
    own.volunteer.save()
    assert actor_for_token(raw) is None


def test_a_new_assignment_elsewhere_drops_the_point_at_once(own: Society) -> None:
    elsewhere = ServicePoint.objects.create(
        national_society=own.society, code=f"{own.point.code}-2", name="Other point",
        kind=own.point.kind, latitude=own.point.latitude, longitude=own.point.longitude,
    )  # fmt: skip
    _token, raw = create_api_token(own.volunteer, "tablet", own.point)
    before = actor_for_token(raw)
    assert before is not None
    assert before.service_point == own.point
    own.volunteer.membership.service_points.add(elsewhere)  # only the assignment changes
    after = actor_for_token(raw)
    assert after is not None
    assert after.service_point is None


def test_closing_the_point_drops_it_at_once(own: Society) -> None:
    _token, raw = create_api_token(own.volunteer, "tablet", own.point)
    assert actor_for_token(raw) is not None
    own.point.status = ServicePoint.Status.CLOSED
    own.point.save()
    actor = actor_for_token(raw)
    assert actor is not None
    assert actor.service_point is None


def test_a_cached_token_still_expires_on_time(own: Society, monkeypatch: Any) -> None:
    soon = timezone.now() + dt.timedelta(seconds=ACTOR_SECONDS // 2)
    _token, raw = create_api_token(own.volunteer, "tablet", own.point, expires_at=soon)
    assert actor_for_token(raw) is not None
    monkeypatch.setattr(timezone, "now", lambda: soon + dt.timedelta(seconds=1))
    assert actor_for_token(raw) is None


def test_wrong_tokens_are_never_cached(own: Society) -> None:
    assert actor_for_token("rct_" + "x" * 43) is None
    with CaptureQueriesContext(connection) as queries:
        assert actor_for_token("rct_" + "x" * 43) is None
    assert queries.captured_queries


@pytest.mark.parametrize("evicted", [False, True])
def test_a_change_makes_older_entries_unreachable(evicted: bool) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert caching.remember("kind", ("a",), 60, compute) == 1
    assert caching.remember("kind", ("a",), 60, compute) == 1
    if evicted:  # the generation itself was pushed out of a full cache
        from django.core.cache import cache

        cache.delete("generation:kind")
    else:
        caching.changed("kind")
    assert caching.remember("kind", ("a",), 60, compute) == 2
    caching.changed("other")
    assert caching.remember("kind", ("a",), 60, compute) == 2


def test_an_answer_cached_before_the_commit_is_dropped_at_the_commit(
    own: Society, django_capture_on_commit_callbacks: Any
) -> None:
    token, raw = create_api_token(own.volunteer, "tablet", own.point)
    stale = actor_for_token(raw)
    with django_capture_on_commit_callbacks() as at_commit:
        revoke_api_token(token)
        # Another thread read the token before this transaction committed, and cached it
        # (where actor_for_token keeps it: as the object, shared in the process).
        digest = token_digest(raw)
        caching.remember(
            ACCESS, (digest,), ACTOR_SECONDS, lambda: (stale, token.expires_at), shared=True
        )
    assert actor_for_token(raw) is not None  # the stale answer, until the commit
    for callback in at_commit:
        callback()
    assert actor_for_token(raw) is None
