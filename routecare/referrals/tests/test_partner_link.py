"""A partner organisation not on RouteCare: a printable slip and a one-time link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pypdfium2
import pytest
from django.test import Client
from django.utils import timezone

from routecare.conftest import Society, register
from routecare.people import actions as people_actions
from routecare.referrals import actions, partner
from routecare.referrals.actions import Destination
from routecare.referrals.models import Referral


@pytest.fixture
def to_partner(own: Society) -> Referral:
    person = register(own, consents=["care", "share-partners"])
    people_actions.update_health_summary(own.actor(), person, allergies=["sulfa drugs"])
    return actions.send_referral(
        own.actor(),
        person,
        destination=Destination(partner_name="Clínica Esperanza (MSF)"),
        referral_type="health",
        service="health-primary",
        reason="HIV test results pending",
        urgency="priority",
        fields=["allergies"],
        idempotency_key="partner-0001",
    )


def _link_from_slip(client: Client, referral: Referral, monkeypatch: pytest.MonkeyPatch) -> str:
    """Print the slip through the web page, keeping the link it was made with (reading the
    link back out of the PDF's text is not reliable: the long link wraps)."""
    made: list[str] = []
    original = partner.new_link_token

    def keep(actor: Any, referral: Referral) -> str:
        made.append(original(actor, referral))
        return made[-1]

    monkeypatch.setattr(partner, "new_link_token", keep)
    response = client.get(f"/referrals/{referral.pk}/slip.pdf")
    assert response["Content-Type"] == "application/pdf"
    document = pypdfium2.PdfDocument(response.content)
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert "Clínica Esperanza" in text
    assert "/partner/referrals/" in "".join(text.split())
    return f"/partner/referrals/{made[-1]}/"


def test_the_partner_link_works_once_and_then_refuses(
    own: Society, to_partner: Referral, web: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    link = _link_from_slip(web(own.volunteer, own.point), to_partner, monkeypatch)
    page = Client().get(link)
    assert page.status_code == 200
    assert b"sulfa drugs" in page.content
    assert page["Cache-Control"] == "no-store"
    done = Client().post(link, {"outcome": "completed", "note": "results given, treatment started"})
    assert done.status_code == 200
    to_partner.refresh_from_db()
    assert to_partner.status == "completed"
    assert Client().get(link).status_code == 410
    assert b"sulfa" not in Client().get(link).content
    assert Client().post(link, {"outcome": "declined"}).status_code == 410


def test_a_new_slip_cancels_the_previous_link(
    own: Society, to_partner: Referral, web: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = web(own.volunteer, own.point)
    first = _link_from_slip(client, to_partner, monkeypatch)
    second = _link_from_slip(client, to_partner, monkeypatch)
    assert Client().get(first).status_code == 410
    assert Client().get(second).status_code == 200


def test_an_expired_or_forged_link_refuses(own: Society, to_partner: Referral) -> None:
    token = partner.new_link_token(own.actor(), to_partner)
    Referral.objects.filter(pk=to_partner.pk).update(
        partner_link_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert Client().get(f"/partner/referrals/{token}/").status_code == 410
    assert Client().get("/partner/referrals/not-a-token/").status_code == 410
    assert Client().get(f"/partner/referrals/{token[:-3]}abc/").status_code == 410


def test_an_unknown_outcome_changes_nothing(own: Society, to_partner: Referral) -> None:
    token = partner.new_link_token(own.actor(), to_partner)
    # The form is shown again with its error; the link is not used up by a refused answer.
    for answer in ({"outcome": "vanished"}, {"note": "no outcome at all"}):
        refused = Client().post(f"/partner/referrals/{token}/", answer)
        assert refused.status_code == 400
        assert b'name="outcome"' in refused.content
    to_partner.refresh_from_db()
    assert to_partner.status == "sent"
    assert to_partner.partner_link_used_at is None
    assert Client().get(f"/partner/referrals/{token}/").status_code == 200
