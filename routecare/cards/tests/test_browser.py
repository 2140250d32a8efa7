"""In a real browser: a volunteer in Honduras reads, from a photo of the printed PDF, the card
a volunteer in Panama issued, and sees the allergy; a volunteer of a society outside the
network cannot read it; the reading is in the audit trail."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from django.contrib.auth.models import User
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.access import build_actor
from routecare.audit.models import AuditEvent
from routecare.cards import actions as card_actions
from routecare.cards.camera import fake_camera_args, qr_video
from routecare.cards.keys import ensure_keys
from routecare.cards.models import Card
from routecare.conftest import PASSWORD, Society, make_user
from routecare.core.tests.browser import CHROMIUM, CHROMIUM_ARGS
from routecare.orgs.models import NationalSociety, Role, ServicePoint
from routecare.people import actions

pytestmark = pytest.mark.browser


def _panama(own: Society) -> tuple[User, ServicePoint]:
    society = NationalSociety.objects.create(
        network=own.society.network, name="Red Cross Society of Panama", country_code="PA"
    )
    point = ServicePoint.objects.create(
        national_society=society,
        code="pan-lajas-blancas",
        name="Lajas Blancas reception point",
        latitude=Decimal("8.2167"),
        longitude=Decimal("-77.7333"),
    )
    return make_user("pa-vol", Role.VOLUNTEER, national_society=society), point


def _sign_in(browser: Browser, live_server: LiveServer, user: User) -> Page:
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/sign-in/")
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    page.goto("/people/find/")  # pages about people ask where the volunteer works today
    if "/accounts/service-point/" in page.url:
        page.check("input[name=service_point] >> nth=0")
        with page.expect_navigation():
            page.click("main form [type=submit]")
    return page


def _photo_of(pdf: bytes) -> bytes:
    """A phone photo of the printed card: rendered, a little turned, on a table, as JPEG."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        card = document[0].render(scale=220 / 72).to_pil().convert("RGB")
    finally:
        document.close()
    turned = card.rotate(4, expand=True, fillcolor=(255, 255, 255))
    table = Image.new("RGB", (turned.width + 300, turned.height + 240), (120, 110, 95))
    table.paste(turned, (150, 120))
    out = io.BytesIO()
    table.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_a_card_printed_in_panama_is_read_in_honduras_but_not_outside_the_network(
    live_server: LiveServer,
    browser: Browser,
    own: Society,
    outsider: Society,
    tmp_path: Path,
) -> None:
    panama_volunteer, lajas_blancas = _panama(own)
    ensure_keys(own.society.network)
    ensure_keys(outsider.society.network)
    panama_actor = build_actor(panama_volunteer, lajas_blancas.pk)
    assert panama_actor is not None
    person = actions.register_person(
        panama_actor,
        sex="female",
        age_band="18-59",
        languages=["es"],
        consents=["care", "share-network"],
        consent_language="es",
    )
    actions.record_encounter(panama_actor, person, services=[("first-aid", 1)], triage="yellow")
    actions.update_health_summary(panama_actor, person, allergies=["penicillin"])

    # Panama: issue the card and download the printable PDF, as a volunteer would.
    panama = _sign_in(browser, live_server, panama_volunteer)
    panama.goto(f"/people/{person.pk}/")
    with panama.expect_navigation():
        panama.click("[data-testid=care-card]")
    with panama.expect_navigation():
        panama.click("main form:not([action]) button[type=submit]")
    expect(panama.locator("[data-testid=card-qr] svg")).to_be_visible()
    expect(panama.locator("[data-testid=explain]")).to_contain_text(
        "no es un documento de identidad"
    )
    with panama.expect_download() as download_info:
        panama.click(f'a[href="/people/{person.pk}/card.pdf"]')
    pdf_path = tmp_path / "card.pdf"
    download_info.value.save_as(pdf_path)
    photo = tmp_path / "card-photo.jpg"
    photo.write_bytes(_photo_of(pdf_path.read_bytes()))
    card = Card.objects.get(person=person)

    # Honduras: another society of the network reads the photo and sees the allergy.
    honduras = _sign_in(browser, live_server, own.volunteer)
    with honduras.expect_navigation():
        honduras.click('header nav a[href="/cards/scan/"]')
    honduras.set_input_files("input[name=photo]", str(photo))
    with honduras.expect_navigation():
        honduras.click("form[data-card-form] button[type=submit]")
    expect(honduras.locator("[data-testid=card-allergies]")).to_contain_text("penicillin")
    expect(honduras.locator("[data-testid=card-reading]")).to_contain_text(
        "Red Cross Society of Panama"
    )
    expect(honduras).to_have_url(re.compile(r"/cards/scan/$"))  # the card stays out of URLs
    assert honduras.evaluate("localStorage.length === 0 && sessionStorage.length === 0")
    read = AuditEvent.objects.get(
        action="read", object_type="card", object_id=card.serial, actor=own.volunteer
    )
    assert read.national_society_id == own.society.pk
    assert read.person_id is None

    # Serbia: outside the network, the same photo tells why it cannot be read, and no more.
    serbia = _sign_in(browser, live_server, outsider.volunteer)
    serbia.goto("/cards/scan/")
    serbia.set_input_files("input[name=photo]", str(photo))
    with serbia.expect_navigation():
        serbia.click("form[data-card-form] button[type=submit]")
    expect(serbia.locator("[data-testid=card-error]")).to_contain_text("network")
    expect(serbia.locator("[data-testid=card-reading]")).to_have_count(0)
    assert "penicillin" not in serbia.content()
    assert AuditEvent.objects.filter(
        actor=outsider.volunteer, object_type="card", detail="refused: wrong_network"
    ).exists()


def test_a_card_held_up_to_the_camera_is_read(
    live_server: LiveServer, browser: Browser, own: Society, other: Society, tmp_path: Path
) -> None:
    """Chromium's fake camera plays a video of the card; the page decodes it (BarcodeDetector
    where the platform has one, else the pinned jsQR) and posts the text, never in the URL."""
    ensure_keys(own.society.network)
    person = actions.register_person(
        own.actor(), sex="male", age_band="18-59", consents=["care", "share-network"]
    )
    actions.update_health_summary(own.actor(), person, allergies=["sulfa drugs"])
    card = card_actions.issue_card(own.actor(), person)
    video = tmp_path / "card.y4m"
    qr_video(str(card.qr_text), video)
    # A second Chromium from the same Playwright, started with a fake camera.
    with_camera = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, *fake_camera_args(video)],
    )
    try:
        page = _sign_in(with_camera, live_server, other.volunteer)
        page.context.grant_permissions(["camera"])
        page.goto("/cards/scan/")
        page.click("[data-camera-start]")
        expect(page.locator("[data-testid=card-allergies]")).to_contain_text("sulfa drugs")
        expect(page).to_have_url(re.compile(r"/cards/scan/$"))
    finally:
        with_camera.close()
