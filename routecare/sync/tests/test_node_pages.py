"""The node page and the header badge, for staff at a field node: online or offline, last
successful sync, changes waiting and refused, and *Sync now* that never fails with a 500."""

from __future__ import annotations

import datetime as dt
import importlib
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches
from django.utils import timezone

import routecare.sync.urls
from routecare.conftest import Society, sign_in_client
from routecare.people.models import Person
from routecare.sync import client
from routecare.sync.models import NodeState, OutboxChange

pytestmark = pytest.mark.django_db


def _reload_urls() -> None:
    """Both modules: the project's URLs hold the resolver made from the app's at import."""
    importlib.reload(routecare.sync.urls)
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    clear_url_caches()


@pytest.fixture
def at_node(settings: Any) -> Iterator[None]:
    """This process plays a field node: its settings and its URLs."""
    settings.ROUTECARE_NODE = True
    _reload_urls()
    yield
    settings.ROUTECARE_NODE = False
    _reload_urls()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _enrolled(own: Society, **state: Any) -> NodeState:
    return NodeState.objects.create(
        node_id=uuid.uuid4(),
        server_url=f"http://127.0.0.1:{_closed_port()}",
        credential="node-secret",
        service_point_id=own.point.pk,
        national_society_id=own.society.pk,
        **state,
    )


def _outbox(waiting: int, refused: int = 0, message: str = "", person: Any = None) -> None:
    for n in range(waiting + refused):
        OutboxChange.objects.create(
            label="people.person",
            record_id=person.pk if person else uuid.uuid4(),
            hlc=f"{n:020d}",
            state=OutboxChange.State.WAITING if n < waiting else OutboxChange.State.REFUSED,
            last_error=message if n >= waiting else "",
        )


def _badge(own: Society, language: str = "en") -> str:
    page = sign_in_client(own.volunteer, own.point).get(
        "/directory/", HTTP_ACCEPT_LANGUAGE=language
    )
    assert page.status_code == 200
    html = page.content.decode()
    if 'data-testid="node-badge"' not in html:
        return ""
    start = html.index('data-testid="node-badge"')
    return html[start : html.index("</a>", start)]


def test_the_header_shows_a_node_online_with_its_waiting_and_refused_changes(
    own: Society, at_node: None
) -> None:
    now = timezone.now()
    _enrolled(own, last_attempt_at=now, last_success_at=now)
    _outbox(waiting=2, refused=1, message="Unknown service point")
    badge = _badge(own)
    assert 'data-online="true"' in badge
    assert "Online" in badge
    assert "2 changes waiting" in badge
    assert "1 refused" in badge
    assert "synced 0\xa0minutes ago" in badge


def test_the_badge_says_offline_when_the_last_sync_failed(own: Society, at_node: None) -> None:
    now = timezone.now()
    _enrolled(
        own,
        last_attempt_at=now,
        last_success_at=now - dt.timedelta(hours=2),
        last_error="no link to the server: ConnectError",
    )
    _outbox(waiting=1)
    badge = _badge(own)
    assert 'data-online="false"' in badge
    assert "Offline" in badge
    assert "1 change waiting" in badge
    assert "synced 2\xa0hours ago" in badge
    assert "node-refused" not in badge


def test_the_badge_says_offline_when_no_sync_was_tried_for_three_minutes(
    own: Society, at_node: None
) -> None:
    then = timezone.now() - dt.timedelta(minutes=4)
    _enrolled(own, last_attempt_at=then, last_success_at=then)
    assert 'data-online="false"' in _badge(own)


def test_the_badge_speaks_the_staff_language(own: Society, at_node: None) -> None:
    _enrolled(own)
    _outbox(waiting=3)
    badge = _badge(own, "es")
    assert "Sin conexión" in badge
    assert "3 cambios en espera" in badge
    assert "nunca sincronizado" in badge


def test_the_badge_costs_at_most_two_queries(own: Society, at_node: None, settings: Any) -> None:
    _enrolled(own)
    _outbox(waiting=3, refused=2)
    staff = sign_in_client(own.volunteer, own.point)
    staff.get("/directory/")  # warm the caches the page keeps
    with CaptureQueriesContext(connection) as at_a_node:
        assert staff.get("/directory/").status_code == 200
    settings.ROUTECARE_NODE = False
    with CaptureQueriesContext(connection) as on_a_server:
        page = staff.get("/directory/")
    assert 'data-testid="node-badge"' not in page.content.decode()
    assert len(at_a_node) - len(on_a_server) <= 2


def test_a_server_shows_no_badge_and_has_no_node_page(own: Society) -> None:
    _enrolled(own)  # even with a row that looks like a node's
    staff = sign_in_client(own.volunteer, own.point)
    assert 'data-testid="node-badge"' not in staff.get("/directory/").content.decode()
    assert staff.get("/sync/node/").status_code == 404
    assert staff.post("/sync/node/sync-now/").status_code == 404


def test_the_node_page_lists_refused_changes_by_kind_and_message(
    own: Society, at_node: None
) -> None:
    _enrolled(own, last_attempt_at=timezone.now(), last_success_at=timezone.now())
    _outbox(waiting=1, refused=2, message="This service point is closed.")
    page = sign_in_client(own.volunteer, own.point).get("/sync/node/")
    assert page.status_code == 200
    html = page.content.decode()
    refusals = html[html.index('data-testid="node-refusals"') :]
    assert refusals.count("This service point is closed.") == 2
    assert "person" in refusals
    assert str(OutboxChange.objects.first().record_id) not in html  # type: ignore[union-attr]
    assert 'data-testid="node-page-waiting">1<' in html
    assert 'data-testid="node-page-refused">2<' in html


def test_sync_now_without_a_link_says_so_and_keeps_every_change(
    own: Society, own_person: Person, at_node: None
) -> None:
    _enrolled(own)
    _outbox(waiting=2, person=own_person)  # changes of a record that exists: sent
    staff = sign_in_client(own.volunteer, own.point)
    answer = staff.post("/sync/node/sync-now/")
    assert answer.status_code == 302
    assert answer["Location"] == "/sync/node/"
    page = staff.get("/sync/node/")
    html = page.content.decode()
    assert "Not synced: the server cannot be reached" in html
    assert 'data-online="false"' in html
    assert OutboxChange.objects.filter(state=OutboxChange.State.WAITING).count() == 2
    state = NodeState.objects.get()
    assert state.last_error.startswith("no link to the server")
    assert state.last_success_at is None


def test_sync_now_shows_what_the_sync_did(
    own: Society, at_node: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _enrolled(own)
    report = client.PushReport(acknowledged=5, refused=1, waiting=0)
    report.pulled = client.PullReport(records=7)
    monkeypatch.setattr(client, "sync_now", lambda: report)
    staff = sign_in_client(own.volunteer, own.point)
    page = staff.post("/sync/node/sync-now/", follow=True)
    assert page.status_code == 200
    assert (
        "Synced: 5 changes received by the server, 1 refused, 0 still waiting; "
        "7 records brought here." in page.content.decode()
    )


def test_sync_now_answers_only_a_post_with_its_csrf_token(own: Society, at_node: None) -> None:
    _enrolled(own)
    staff = sign_in_client(own.volunteer, own.point)
    assert staff.get("/sync/node/sync-now/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = staff.cookies
    assert strict.post("/sync/node/sync-now/").status_code == 403
    assert NodeState.objects.get().last_attempt_at is None


def test_only_signed_in_staff_of_the_node_society_see_the_node_page(
    own: Society, other: Society, regional: Any, at_node: None
) -> None:
    _enrolled(own)
    anonymous = Client().get("/sync/node/")
    assert anonymous.status_code == 302
    assert "/accounts/sign-in/" in anonymous["Location"]
    assert Client().post("/sync/node/sync-now/").status_code == 302
    for role in ("volunteer", "coordinator", "focal_point"):
        assert sign_in_client(getattr(own, role), own.point).get("/sync/node/").status_code == 200
    for outsider in (sign_in_client(other.volunteer, other.point), sign_in_client(regional)):
        assert outsider.get("/sync/node/").status_code == 403
        assert outsider.post("/sync/node/sync-now/").status_code == 403
    assert NodeState.objects.get().last_attempt_at is None


def test_the_badge_and_the_node_page_say_how_many_conflicts_wait_on_the_server(
    own: Society, at_node: None
) -> None:
    _enrolled(own, last_attempt_at=timezone.now(), last_success_at=timezone.now(), open_conflicts=2)
    staff = sign_in_client(own.volunteer, own.point)
    badge = staff.get("/directory/").content.decode()
    assert 'data-conflicts="2"' in badge
    assert "2 conflicts" in badge
    page = staff.get("/sync/node/").content.decode()
    assert 'data-testid="node-page-conflicts">2<' in page
    assert "Sync conflicts page" in page
    es = staff.get("/sync/node/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Conflictos abiertos en el servidor" in es or "conflictos" in es


def test_no_conflict_says_nothing_in_the_badge(own: Society, at_node: None) -> None:
    _enrolled(own, last_attempt_at=timezone.now(), last_success_at=timezone.now())
    badge = sign_in_client(own.volunteer, own.point).get("/directory/").content.decode()
    assert 'data-testid="node-conflicts"' not in badge
