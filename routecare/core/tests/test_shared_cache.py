"""core.caching with REDIS_URL: the generations (and the public pages) live in Redis, so a
change made in one process or server is seen by every other at its next request, and Redis
holds nothing pickled, secret or personal.

Each test writes under a prefix of its own in Redis database 15 and removes its keys after.
Redis runs at 127.0.0.1:6379 here and in CI (TEST_REDIS_URL names another); without it the
tests are skipped, except in CI (ROUTECARE_REQUIRE_REDIS) where they fail."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from routecare.accounts.actions import create_api_token
from routecare.conftest import PASSWORD, Society
from routecare.core import caching
from routecare.orgs.models import ServicePoint
from routecare.people.models import Person

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[3]
ROUTECARE = str(Path(sys.executable).with_name("routecare"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _reachable() -> redis.Redis:
    client: redis.Redis = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"Redis is not reachable at {REDIS_URL} ({error}): start it or set TEST_REDIS_URL"
        if os.environ.get("ROUTECARE_REQUIRE_REDIS"):  # CI (.ci/run)
            pytest.fail(f"ROUTECARE_REQUIRE_REDIS is set but {reason}")
        pytest.skip(reason)
    return client


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test alone; its keys are removed after."""
    client = _reachable()
    name = f"routecare-test-{uuid.uuid4().hex}:"
    yield name
    for stored in client.scan_iter(match=f"{name}*", count=1000):
        client.delete(stored)


@pytest.fixture
def shared(settings: Any, prefix: str) -> str:
    """This process's caches in Redis, as a server with REDIS_URL."""
    settings.REDIS_URL = REDIS_URL
    settings.ROUTECARE_REDIS_PREFIX = prefix
    return prefix


def _environment(prefix: str, database: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ROUTECARE_PRODUCTION", "DJANGO_SETTINGS"))
    }
    environment.update(
        DATABASE_URL=f"sqlite:///{database}",
        REDIS_URL=REDIS_URL,
        ROUTECARE_REDIS_PREFIX=prefix,
        ALLOWED_HOSTS="127.0.0.1",
        DEBUG="false",
    )
    return environment


def _in_another_process(environment: dict[str, str], script: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own command
        [ROUTECARE, "shell", "--no-imports", "-c", script],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_change_made_in_another_process_is_seen_at_the_next_request(
    shared: str, tmp_path: Path
) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert caching.remember("test-kind", ("a",), 60, compute) == 1
    assert caching.remember("test-kind", ("a",), 60, compute) == 1  # kept in this process
    _in_another_process(
        _environment(shared, tmp_path / "unused.sqlite3"),
        "from routecare.core import caching; caching.changed('test-kind')",
    )
    # Without Redis this process would keep answering 1 for the next 60 seconds.
    assert caching.remember("test-kind", ("a",), 60, compute) == 2


def test_a_public_page_is_drawn_once_for_every_process_and_again_after_a_change(
    shared: str, tmp_path: Path
) -> None:
    kind = caching.PAGE_PREFIX + "test-pages"
    drawn: list[int] = []

    def draw() -> bytes:
        drawn.append(1)
        return f"<p>page {len(drawn)} — ñ</p>".encode()

    assert caching.remember(kind, ("/en/services/",), 60, draw) == "<p>page 1 — ñ</p>".encode()
    caching.SHARED.clear()
    for store in caches.all():
        store.clear()  # as another process: nothing of this one's memory
    assert caching.remember(kind, ("/en/services/",), 60, draw) == "<p>page 1 — ñ</p>".encode()
    assert len(drawn) == 1
    _in_another_process(
        _environment(shared, tmp_path / "unused.sqlite3"),
        f"from routecare.core import caching; caching.changed({kind!r})",
    )
    assert caching.remember(kind, ("/en/services/",), 60, draw) == "<p>page 2 — ñ</p>".encode()


def test_a_lost_counter_starts_again_from_the_clock_and_drops_the_answers(shared: str) -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert caching.remember("test-kind", ("a",), 60, compute) == 1
    before = caching.generation("test-kind")
    redis.Redis.from_url(REDIS_URL).delete(f"{shared}generation:test-kind")  # Redis emptied
    assert caching.remember("test-kind", ("a",), 60, compute) == 2
    assert caching.generation("test-kind") > before
    caching.changed("other-kind")
    assert caching.remember("test-kind", ("a",), 60, compute) == 2


def test_generations_keep_no_expiry_and_pages_expire(shared: str) -> None:
    kind = caching.PAGE_PREFIX + "test-pages"
    caching.remember(kind, ("x",), 60, lambda: b"page")
    caching.changed("test-kind")
    client = redis.Redis.from_url(REDIS_URL)
    # Redis's volatile-* eviction policies evict only keys with an expiry: never a counter.
    assert client.ttl(f"{shared}generation:{kind}") == -1
    assert client.ttl(f"{shared}generation:test-kind") == -1
    pages = list(client.scan_iter(match=f"{shared}answer:page:*"))
    assert len(pages) == 1
    assert 0 < client.ttl(pages[0]) <= 60


def test_without_redis_nothing_is_written_there(settings: Any, prefix: str) -> None:
    settings.ROUTECARE_REDIS_PREFIX = prefix
    assert settings.REDIS_URL == ""
    caching.remember("test-kind", ("a",), 60, lambda: 1)
    caching.changed("test-kind")
    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{prefix}*")) == []


def test_an_unreachable_redis_computes_answers_afresh(settings: Any) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"  # nothing listens there
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert caching.remember("test-kind", ("a",), 60, compute) == 1
    assert caching.remember("test-kind", ("a",), 60, compute) == 2  # none served unchecked
    caching.changed("test-kind")  # a change is not refused for it


def test_redis_holds_only_json_and_counters_nothing_personal_or_secret(
    shared: str,
    own: Society,
    own_person: Person,
    web: Callable[..., Client],
) -> None:
    ServicePoint.objects.filter(pk=own.point.pk).update(visibility=ServicePoint.Visibility.PUBLIC)
    token, raw = create_api_token(own.volunteer, "test", own.point)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    for _twice in (1, 2):
        found = client.post(
            "/api/v1/people/lookup",
            {"code": own_person.short_code},
            content_type="application/json",
        )
        assert found.status_code == 200
        assert client.get("/api/v1/directory/service-points").status_code == 200
        assert Client().get("/api/v1/public/service-points?country=HN").status_code == 200
        assert Client().get("/en/services/?country=HN").status_code == 200
        assert web(own.coordinator, own.point).get("/indicators/").status_code == 200

    store = redis.Redis.from_url(REDIS_URL)
    names = [name.decode() for name in store.scan_iter(match=f"{shared}*")]
    assert any(name.startswith(f"{shared}answer:page:") for name in names)  # the public pages
    assert any(name.startswith(f"{shared}generation:access") for name in names)
    secrets_and_people = [
        own_person.short_code,
        str(own_person.pk),
        own_person.pk.hex,
        raw,
        token.digest,
        token.prefix,
        own.volunteer.username,
    ]
    for name in names:
        stored = store.get(name)
        assert isinstance(stored, bytes), name
        assert not stored.startswith(b"\x80"), f"{name} is pickled"
        text = stored.decode()
        if name.startswith(f"{shared}generation:"):
            assert re.fullmatch(r"\d+", text), name
        else:
            kept = json.loads(text)
            assert set(kept) == {"generation", "page"}, name
        for secret in secrets_and_people:
            assert secret not in text, f"{name} holds {secret}"
            assert secret not in name


# Two real servers sharing one database and one Redis ---------------------------------------


SETUP = """
import json
from django.contrib.auth import get_user_model
from routecare.accounts.actions import create_api_token
from routecare.orgs.models import Membership, NationalSociety, Network, Role, ServicePoint
network = Network.objects.create(slug="americas", name="Americas route")
society = NationalSociety.objects.create(network=network, name="Honduran Red Cross",
                                         country_code="HN")
point = ServicePoint.objects.create(national_society=society, code="hn-1", name="Danli",
                                    latitude="14.0", longitude="-86.5", services=["water"])
user = get_user_model().objects.create_user(username="hn-vol", password=%r)
Membership.objects.create(user=user, role=Role.VOLUNTEER, national_society=society)
token, raw = create_api_token(user, "two servers", point)
print(json.dumps({"id": str(token.pk), "raw": raw}))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def two_servers(prefix: str, tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Two gunicorn servers on loopback, one SQLite file and one Redis, and a token of a
    volunteer made in that database. They run in the SQLite pass only: the servers have a
    database of their own, the same in both passes."""
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("the two servers run in the SQLite pass (their database is a file of theirs)")
    environment = _environment(prefix, tmp_path / "routecare.sqlite3")
    subprocess.run(  # noqa: S603 - our own command
        [ROUTECARE, "migrate", "--no-input"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=True,
    )
    made: dict[str, str] = json.loads(_in_another_process(environment, SETUP % PASSWORD))
    servers: list[subprocess.Popen[bytes]] = []
    addresses: list[str] = []
    try:
        for _server in ("a", "b"):
            port = _free_port()
            servers.append(
                subprocess.Popen(  # noqa: S603 - our own command
                    [GUNICORN, "routecare.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                    env=environment,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            addresses.append(f"http://127.0.0.1:{port}")
        for address in addresses:
            _wait_until_up(address)
        yield addresses[0], addresses[1], made
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def _wait_until_up(address: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{address}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_a_token_revoked_through_one_server_is_refused_by_the_other_at_once(
    two_servers: tuple[str, str, dict[str, str]],
) -> None:
    server_a, server_b, made = two_servers
    bearer = {"Authorization": f"Bearer {made['raw']}"}
    listing = "/api/v1/directory/service-points"
    for address in (server_a, server_b, server_b):  # B now keeps who the token is
        assert httpx.get(address + listing, headers=bearer).status_code == 200

    with httpx.Client(base_url=server_a, follow_redirects=True) as browser:
        page = browser.get("/accounts/sign-in/")
        csrf = browser.cookies["csrftoken"]
        signed_in = browser.post(
            "/accounts/sign-in/",
            data={"username": "hn-vol", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        )
        assert signed_in.status_code == 200, page.text
        revoked = browser.post(
            f"/accounts/api-tokens/{made['id']}/revoke/",
            data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        )
        assert revoked.status_code == 200
        assert "The token was revoked." in revoked.text

    # Without Redis, B would accept the token for up to ACTOR_SECONDS (30 s) more.
    assert httpx.get(server_b + listing, headers=bearer).status_code == 401
    assert httpx.get(server_a + listing, headers=bearer).status_code == 401


def _settings_in_production(tmp_path: Path, **redis: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if "REDIS" not in name}
    environment.update(
        ROUTECARE_PRODUCTION="true",
        SECRET_KEY="x" * 50,
        ROUTECARE_FIELD_KEYS="k1:" + "A" * 43 + "=",
        ROUTECARE_LOCAL_DIR=str(tmp_path),
        **redis,
    )
    return subprocess.run(
        [sys.executable, "-c", "import routecare.settings"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_a_redis_url_without_password(tmp_path: Path) -> None:
    refused = _settings_in_production(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")
    assert refused.returncode != 0
    assert "ROUTECARE_PRODUCTION needs a password in REDIS_URL" in refused.stderr
    secret = tmp_path / "redis_url"
    secret.write_text("redis://:a-long-password@127.0.0.1:6379/0\n", encoding="utf-8")
    assert _settings_in_production(tmp_path, REDIS_URL_FILE=str(secret)).returncode == 0
    query = "redis://127.0.0.1:6379/0?password=a-long-password"
    assert _settings_in_production(tmp_path, REDIS_URL=query).returncode == 0
    assert _settings_in_production(tmp_path).returncode == 0  # without Redis: as before
