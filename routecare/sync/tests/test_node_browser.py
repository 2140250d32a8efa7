"""The issue's browser test: at a field node (its own process, its own SQLite file, serving its
pages) with the link down, a volunteer signs in with the password set at the node, registers a
person, records an encounter, issues a care card and reads a card of another society; the
header says offline with changes waiting. The link returns, the volunteer presses *Sync now*:
nothing waits any more, the server has the person and the encounter, and a reader of another
society on the server reads the card issued offline."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.bench.chaos.node import FieldNode, routecare_command
from routecare.cards.actions import issue_card, read_card
from routecare.cards.keys import ensure_keys
from routecare.cards.models import Card
from routecare.conftest import Society
from routecare.people.models import Encounter, Person
from routecare.people.tests.test_browser import record_encounter, register_person
from routecare.sync.tests.conftest import EnrolNode

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NODE_PASSWORD = "lajas blancas tent 7"  # a test password, set at the node
SUBMIT = "main form [type=submit]"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(node: FieldNode, port: int) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(routecare_command()).parent / "gunicorn")
    log = (node.directory / "web.log").open("w")
    web = subprocess.Popen(  # noqa: S603 - our own command
        [gunicorn, "routecare.wsgi", f"--bind=127.0.0.1:{port}", "--workers=1",
         "--threads=4", "--worker-class=gthread", "--timeout=120"],
        env=node.env, cwd=node.directory, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return web
        except OSError:
            time.sleep(0.2)
    os.killpg(web.pid, signal.SIGTERM)
    raise AssertionError("the node's web server did not start: " + _log(node))


def _log(node: FieldNode) -> str:
    return (node.directory / "web.log").read_text(encoding="utf-8")[-3000:]


def _point_the_node_at(node: FieldNode, url: str) -> None:
    node.says(f"""
        from routecare.sync.models import NodeState
        NodeState.objects.update(server_url="{url}")
    """)  # fmt: skip


@pytest.fixture
def node_url(
    enrolled_node: EnrolNode, own: Society, live_server: LiveServer
) -> Iterator[tuple[str, Any]]:
    """A node enrolled with the live server, with its first pull done and its web server up."""
    ensure_keys(own.society.network)  # card keys and the trust list the node pulls
    node = enrolled_node(own, live_server.url)
    done = subprocess.run(  # noqa: S603 - our own command
        [routecare_command(), "node-staff-password", own.volunteer.username, "--stdin"],
        input=NODE_PASSWORD + "\n", env=node.env, cwd=node.directory,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    port = _free_port()
    web = _serve(node, port)
    try:
        yield f"http://127.0.0.1:{port}", node
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)


def _submit(page: Page) -> None:
    with page.expect_navigation():
        page.click(SUBMIT)


def _sign_in_at_the_node(page: Page, own: Society) -> None:
    page.goto("/accounts/sign-in/")
    page.fill("input[name=username]", own.volunteer.get_username())
    page.fill("input[name=password]", NODE_PASSWORD)
    _submit(page)
    page.goto("/people/register/")
    if "/accounts/service-point/" in page.url:
        page.check(f"input[name=service_point][value='{own.point.pk}']")
        _submit(page)
    expect(page).to_have_url(re.compile(r"/people/register/$"))


def _sync_now(page: Page) -> None:
    page.goto("/sync/node/")
    with page.expect_navigation():
        page.click("[data-testid=sync-now]")
    expect(page).to_have_url(re.compile(r"/sync/node/$"))


def test_a_volunteer_works_at_a_node_with_the_link_down_and_syncs_when_it_returns(
    browser: Browser,
    live_server: LiveServer,
    own: Society,
    other: Society,
    other_person: Person,
    node_url: tuple[str, FieldNode],
    console_errors: list[str],
) -> None:
    url, node = node_url
    theirs = issue_card(other.actor(), other_person)  # a card from Guatemala, read in Honduras
    _point_the_node_at(node, f"http://127.0.0.1:{_free_port()}")  # the link goes down

    context = browser.new_context(base_url=url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        _sign_in_at_the_node(page, own)
        person_path, code = register_person(page, "en")
        record_encounter(page, person_path, own.point.name, "en")
        with page.expect_navigation():
            page.click("[data-testid=care-card]")
        with page.expect_navigation():
            page.click("main form:not([action]) button[type=submit]")
        expect(page.locator("[data-testid=card-qr] svg")).to_be_visible()

        # A card issued by another society of the route reads at the node, offline.
        page.goto("/cards/scan/")
        page.fill("textarea[name=text], input[name=text]", str(theirs.qr_text))
        with page.expect_navigation():
            page.click("form[data-card-form] button[type=submit]")
        expect(page.locator("[data-testid=card-reading]")).to_contain_text("Guatemalan Red Cross")

        # The link is down: Sync now says so, and the header shows what waits.
        _sync_now(page)
        expect(page.locator("main .messages, .messages")).to_contain_text(
            "Not synced: the server cannot be reached"
        )
        badge = page.locator("[data-testid=node-badge]")
        expect(badge).to_have_attribute("data-online", "false")
        expect(badge).to_contain_text("Offline")
        waiting = int(badge.get_attribute("data-waiting") or 0)
        assert waiting > 0
        expect(page.locator("[data-testid=node-waiting]")).to_contain_text(
            f"{waiting} changes waiting"
        )
        assert not Person.objects.filter(short_code=code).exists()

        # The link returns: one press of Sync now, and nothing waits any more.
        _point_the_node_at(node, live_server.url)
        _sync_now(page)
        expect(page.locator(".messages")).to_contain_text("Synced:")
        expect(badge).to_have_attribute("data-online", "true")
        expect(badge).to_have_attribute("data-waiting", "0")
        expect(page.locator("[data-testid=node-page-refused]")).to_have_text("0")
    finally:
        context.close()

    person = Person.objects.get(short_code=code)
    assert str(person.pk) in person_path
    assert Encounter.objects.filter(person=person, service_point=own.point).count() == 1
    # The card issued offline, signed by the node's key, reads at another society's point.
    offline_card = node.says(f"""
        from routecare.cards.models import Card
        print(Card.objects.get(person__short_code="{code}").qr_text)
    """)  # fmt: skip
    reading = read_card(other.actor(), offline_card.splitlines()[-1])
    assert reading.issuer == own.society
    # The server holds that card too (one sync), signed by the node's certified key.
    held = Card.objects.get(person=person)
    assert (held.serial, held.signing_key) == (reading.summary.serial, None)
    assert held.node_certificate is not None
    assert console_errors == [], console_errors
