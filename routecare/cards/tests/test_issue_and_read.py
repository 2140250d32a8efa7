"""Issuing a card from a person's records and reading it anywhere in the network."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.cards import actions, qr
from routecare.cards.build import MAX_CARD_CHARS, fit
from routecare.cards.format import CardError
from routecare.cards.keys import create_card_key, create_signing_key, retire_key
from routecare.cards.models import Card, CardKey, RevokedSerial
from routecare.cards.summary import CardSummary
from routecare.cards.tests.conftest import fill_beyond_a_card
from routecare.conftest import Society, register
from routecare.core.tests.named_controls import unnamed_controls
from routecare.people import actions as people_actions
from routecare.people.models import Person


def test_it_issues_a_card_with_what_consent_lets_travel(own: Society, carrier: Person) -> None:
    card = actions.issue_card(own.actor(), carrier)
    reading = actions.read_card(own.actor(), str(card.qr_text))
    summary = reading.summary
    assert summary.short_code == carrier.short_code
    assert summary.allergies == ["penicillin"]
    assert summary.triage == "red"
    assert summary.follow_ups[0].text == "needs insulin refill"
    assert summary.medicines[0].name == "insulin"
    assert summary.encounters[0].services == ["first-aid", "water"]
    assert summary.issued_at_point == own.point.code
    assert card.qr_version <= 12
    assert reading.local_person == carrier


def test_without_consent_to_share_the_card_carries_only_the_code(
    own: Society, other: Society, keys: None
) -> None:
    person = register(own)
    people_actions.update_health_summary(own.actor(), person, allergies=["latex"])
    card = actions.issue_card(own.actor(), person)
    summary = actions.read_card(other.actor(), str(card.qr_text)).summary
    assert summary.short_code == person.short_code
    assert summary.allergies == []
    assert summary.sex is None


def test_issuing_again_supersedes_the_previous_card(own: Society, carrier: Person) -> None:
    first = actions.issue_card(own.actor(), carrier)
    second = actions.issue_card(own.actor(), carrier)
    first.refresh_from_db()
    assert first.ended_at is not None
    assert RevokedSerial.objects.get(serial=first.serial).reason == "superseded"
    with pytest.raises(CardError) as refused:
        actions.read_card(own.actor(), str(first.qr_text))
    assert refused.value.code == "superseded"
    assert actions.read_card(own.actor(), str(second.qr_text)).summary.serial == second.serial


def test_another_society_of_the_network_reads_the_card_but_not_the_record(
    own: Society, other: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    reading = actions.read_card(other.actor(), str(card.qr_text))
    assert reading.summary.allergies == ["penicillin"]
    assert reading.issuer == own.society
    assert reading.local_person is None
    event = AuditEvent.objects.filter(object_type="card", action="read").latest("at")
    assert event.national_society_id == other.society.pk
    assert event.object_id == card.serial
    assert event.person_id is None  # the other society's audit names no record it cannot see


def test_a_society_outside_the_network_cannot_read_the_card(
    own: Society, outsider: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    with pytest.raises(CardError) as refused:
        actions.read_card(outsider.actor(), str(card.qr_text))
    assert refused.value.code == "wrong_network"
    assert AuditEvent.objects.filter(
        national_society=outsider.society, object_type="card", detail="refused: wrong_network"
    ).exists()


def test_a_partner_reads_only_the_health_part(own: Society, carrier: Person) -> None:
    card = actions.issue_card(own.actor(), carrier)
    partner = own.actor("partner")
    reading = actions.read_card(partner, str(card.qr_text))
    visible = reading.visible()
    assert visible["allergies"] == ["penicillin"]
    assert "short_code" not in visible
    assert "encounters" not in visible
    assert "follow_ups" not in visible


def test_a_partner_cannot_read_a_card_without_consent_to_share_with_partners(
    own: Society, keys: None
) -> None:
    person = register(own, consents=["care", "share-network"])
    card = actions.issue_card(own.actor(), person)
    with pytest.raises(CardError) as refused:
        actions.read_card(own.actor("partner"), str(card.qr_text))
    assert refused.value.code == "no_partner_consent"


def test_a_lost_card_is_refused_everywhere(own: Society, other: Society, carrier: Person) -> None:
    card = actions.issue_card(own.actor(), carrier)
    actions.revoke_card(own.actor(), card, "lost")
    with pytest.raises(CardError) as refused:
        actions.read_card(other.actor(), str(card.qr_text))
    assert refused.value.code == "revoked"


def test_revoking_needs_a_reason(own: Society, carrier: Person) -> None:
    card = actions.issue_card(own.actor(), carrier)
    with pytest.raises(ValidationError):
        actions.revoke_card(own.actor(), card, "superseded")
    card.refresh_from_db()
    assert card.ended_at is None


def test_rotated_keys_keep_old_cards_readable_until_retired(
    own: Society, other: Society, carrier: Person
) -> None:
    old = actions.issue_card(own.actor(), carrier)
    old_key = old.card_key
    create_card_key(own.society.network)
    create_signing_key(own.society)
    other_person = register(own, consents=["care", "share-network"])
    new = actions.issue_card(own.actor(), other_person)
    assert new.card_key != old_key
    assert actions.read_card(other.actor(), str(old.qr_text)).summary.serial == old.serial
    retire_key(old_key.kid)
    with pytest.raises(CardError) as refused:
        actions.read_card(other.actor(), str(old.qr_text))
    assert refused.value.code == "retired_key"
    assert actions.read_card(other.actor(), str(new.qr_text)).summary.serial == new.serial


def test_a_retired_signing_key_is_off_the_trust_list(
    own: Society, other: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    create_signing_key(own.society)
    assert card.signing_key is not None
    retire_key(card.signing_key.kid)
    with pytest.raises(CardError) as refused:
        actions.read_card(other.actor(), str(card.qr_text))
    assert refused.value.code == "retired_key"


def test_card_keys_are_read_once_and_a_retirement_shows_at_once(
    own: Society, other: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    actions.read_card(other.actor(), str(card.qr_text))
    with CaptureQueriesContext(connection) as queries:
        actions.read_card(other.actor(), str(card.qr_text))
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    assert "cards_cardkey" not in tables
    assert "cards_signingkey" not in tables
    assert "cards_revokedserial" in tables  # the revocation list is read every time
    create_signing_key(own.society)
    actions.read_card(other.actor(), str(card.qr_text))  # the old key cached again
    assert card.signing_key is not None
    retire_key(card.signing_key.kid)
    with pytest.raises(CardError) as refused:
        actions.read_card(other.actor(), str(card.qr_text))
    assert refused.value.code == "retired_key"


def test_key_secrets_and_cards_are_ciphertext_in_the_database(
    own: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM cards_cardkey")
        secrets = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT seed FROM cards_signingkey")
        seeds = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT qr_text FROM cards_card")
        texts = [row[0] for row in cursor.fetchall()]
    assert secrets
    assert all(value.startswith("rc1:") for value in secrets)
    assert seeds
    assert all(value.startswith("rc1:") for value in seeds)
    assert texts == [texts[0]]
    assert texts[0].startswith("rc1:")
    assert str(card.qr_text) not in texts[0]
    stored_secret = CardKey.objects.get(pk=card.card_key_id).secret
    assert stored_secret not in secrets[0]
    assert card.signing_key is not None
    assert card.signing_key.seed not in seeds[0]


def test_a_large_summary_is_trimmed_to_fit_and_says_what_was_left_off(
    own: Society, carrier: Person
) -> None:
    fill_beyond_a_card(own, carrier)
    card = actions.issue_card(own.actor(), carrier)
    assert len(str(card.qr_text)) <= MAX_CARD_CHARS
    assert card.qr_version <= 15
    assert card.dropped["encounters"] >= 1
    summary = actions.read_card(own.actor(), str(card.qr_text)).summary
    assert summary.dropped == card.dropped
    # What is most needed goes last: allergies stay while anything else can go.
    assert summary.allergies


def test_fitting_always_ends_with_a_card() -> None:
    summary = CardSummary(
        short_code="RC-7K3M-9QE",
        serial="0123456789abcdef",
        issued_at="2026-11-20T14:30:00Z",  # type: ignore[arg-type]
        issued_at_point="hnd-danli",
        allergies=["a" * 60] * 20,
    )
    fitted, text = fit(summary, lambda candidate: "X" * (len(candidate.model_dump_json()) // 2))
    assert len(text) <= MAX_CARD_CHARS
    assert fitted.dropped["allergies"] > 0


def test_a_card_from_another_society_starts_a_linked_local_record(
    own: Society, other: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    local = actions.start_record_from_card(
        other.actor(), str(card.qr_text), consent_language="es", travel_group="alone"
    )
    assert local.national_society_id == other.society.pk
    assert local.short_code == carrier.short_code
    assert local.pk != carrier.pk
    assert local.health_summary.allergies == ["penicillin"]
    again = actions.start_record_from_card(
        other.actor(), str(card.qr_text), consent_language="es", travel_group="alone"
    )
    assert again == local
    assert actions.read_card(other.actor(), str(card.qr_text)).local_person == local


def test_a_code_only_card_cannot_start_a_record(own: Society, other: Society, keys: None) -> None:
    person = register(own)
    card = actions.issue_card(own.actor(), person)
    with pytest.raises(ValidationError):
        actions.start_record_from_card(
            other.actor(), str(card.qr_text), consent_language="es", travel_group="alone"
        )
    assert not Person.objects.filter(national_society=other.society).exists()


def test_issuing_without_keys_is_a_clear_error(own: Society) -> None:
    person = register(own)
    with pytest.raises(ValidationError) as refused:
        actions.issue_card(own.actor(), person)
    assert "card-keys init" in str(refused.value)
    assert not Card.objects.exists()


def test_issuing_after_care_consent_is_withdrawn_is_refused(own: Society, carrier: Person) -> None:
    people_actions.withdraw_consent(own.actor(), carrier, "care")
    with pytest.raises(ValidationError):
        actions.issue_card(own.actor(), carrier)
    assert not Card.objects.exists()


def test_the_qr_image_of_a_card_reads_back(own: Society, carrier: Person) -> None:
    card = actions.issue_card(own.actor(), carrier)
    assert qr.read_photo(qr.png(str(card.qr_text))) == str(card.qr_text)


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (b"", "empty"),
        (b"not an image at all", "not_an_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not_an_image"),
    ],
)
def test_unreadable_photos_say_why(upload: bytes, code: str) -> None:
    with pytest.raises(qr.PhotoError) as refused:
        qr.read_photo(upload)
    assert refused.value.code == code


def test_a_photo_without_a_code_says_so() -> None:
    from io import BytesIO

    from PIL import Image

    blank = BytesIO()
    Image.new("L", (200, 200), 255).save(blank, "PNG")
    with pytest.raises(qr.PhotoError) as refused:
        qr.read_photo(blank.getvalue())
    assert refused.value.code == "no_code"


def test_web_pages_issue_print_and_read(
    own: Society, other: Society, carrier: Person, web: Callable[..., Client]
) -> None:
    client = web(own.volunteer, own.point)
    response = client.post(f"/people/{carrier.pk}/card/")
    assert response.status_code == 302
    page = client.get(f"/people/{carrier.pk}/card/")
    assert b"<svg" in page.content
    # Every control has an accessible name (the "lost or stolen" select had none).
    assert unnamed_controls(page.content.decode()) == []
    assert 'dir="rtl"' in page.content.decode()  # Farsi, the person's first language
    pdf = client.get(f"/people/{carrier.pk}/card.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf["Cache-Control"] == "no-store"
    sticker = client.get(f"/people/{carrier.pk}/sticker.pdf")
    assert sticker.content.startswith(b"%PDF")
    png = client.get(f"/people/{carrier.pk}/card.png")
    text = str(Card.objects.get(person=carrier).qr_text)
    assert qr.read_photo(png.content) == text
    assert client.get(f"/people/{carrier.pk}/card.svg").content.startswith(b"<svg")
    reader = web(other.volunteer, other.point)
    read = reader.post("/cards/scan/", {"text": text})
    assert read.status_code == 200
    assert b"penicillin" in read.content
    assert b"Start a record here" in read.content
    # Cut by whole base45 groups, so that it decodes and fails authentication.
    cut = text[: 4 + (len(text) - 4) // 3 * 3 - 9]
    refused = reader.post("/cards/scan/", {"text": cut})
    assert b"does not check out" in refused.content
    assert b"penicillin" not in refused.content


def test_the_scan_page_reads_an_uploaded_photo(
    own: Society, other: Society, carrier: Person, web: Callable[..., Client]
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    card = actions.issue_card(own.actor(), carrier)
    photo = SimpleUploadedFile("card.png", qr.png(str(card.qr_text)), content_type="image/png")
    response = web(other.volunteer, other.point).post("/cards/scan/", {"photo": photo})
    assert b"penicillin" in response.content


def test_typing_a_short_code_on_the_scan_page_opens_the_record(
    own: Society, carrier: Person, web: Callable[..., Client]
) -> None:
    response = web(own.volunteer, own.point).post("/cards/scan/", {"text": carrier.short_code})
    assert response.status_code == 302
    assert response["Location"] == f"/people/{carrier.pk}/"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", b"Scan the card"),
        ("hello world", b"not a RouteCare card"),
        ("RC9:ABC", b"newer format"),
        ("RC1:!!", b"damaged or incomplete"),
    ],
)
def test_bad_scans_get_their_own_message_and_change_nothing(
    own: Society, keys: None, web: Callable[..., Client], text: str, message: bytes
) -> None:
    before = Person.objects.count()
    response = web(own.volunteer, own.point).post("/cards/scan/", {"text": text})
    assert response.status_code == 200
    assert message in response.content
    assert Person.objects.count() == before


def test_api_issues_reads_and_revokes(
    own: Society, other: Society, carrier: Person, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    issued = client.post(f"/api/v1/people/{carrier.pk}/card")
    assert issued.status_code == 201
    text = issued.json()["qr_text"]
    assert (
        client.get(f"/api/v1/people/{carrier.pk}/card").json()["serial"] == issued.json()["serial"]
    )
    reader = api(other.volunteer, other.point)
    read = reader.post("/api/v1/cards/read", {"text": text}, content_type="application/json")
    assert read.status_code == 200
    assert read.json()["summary"]["allergies"] == ["penicillin"]
    assert read.json()["issuer"]["country_code"] == own.society.country_code
    partner = api(other.partner)
    health = partner.post("/api/v1/cards/read", {"text": text}, content_type="application/json")
    assert "short_code" not in health.json()["summary"]
    photo = reader.post("/api/v1/cards/read-photo", {"photo": _png_upload(text)})
    assert photo.status_code == 200
    revoked = client.post(
        f"/api/v1/people/{carrier.pk}/card/revoke", {"reason": "stolen"}, "application/json"
    )
    assert revoked.status_code == 200
    again = reader.post("/api/v1/cards/read", {"text": text}, content_type="application/json")
    assert again.status_code == 422
    assert again.json()["code"] == "revoked"


def _png_upload(text: str) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("card.png", qr.png(text), content_type="image/png")


def test_api_refuses_bad_photos_and_texts(
    own: Society, keys: None, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    missing = client.post("/api/v1/cards/read-photo", {})
    assert missing.status_code == 422
    assert missing.json()["code"] == "empty"
    junk = client.post("/api/v1/cards/read", {"text": "x" * 5000}, content_type="application/json")
    assert junk.status_code == 422


def test_the_card_page_offers_a_reissue_after_a_new_encounter(
    own: Society, carrier: Person, web: Callable[..., Client]
) -> None:
    actions.issue_card(own.actor(), carrier)
    client = web(own.volunteer, own.point)
    assert b"card-outdated" not in client.get(f"/people/{carrier.pk}/card/").content
    people_actions.record_encounter(own.actor(), carrier, services=[("water", 1)])
    assert b"card-outdated" in client.get(f"/people/{carrier.pk}/card/").content


def test_withdrawing_consent_to_share_cancels_the_card_at_once(
    own: Society, other: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    people_actions.give_consent(own.actor(), carrier, "messaging", "fa")
    people_actions.withdraw_consent(own.actor(), carrier, "messaging")
    card.refresh_from_db()
    assert card.ended_at is None  # consent to messaging has nothing to do with the card
    people_actions.withdraw_consent(own.actor(), carrier, "share-network")
    card.refresh_from_db()
    assert card.ended_at is not None
    assert RevokedSerial.objects.get(serial=card.serial).reason == "withdrawn"
    with pytest.raises(CardError) as refused:
        actions.read_card(other.actor(), str(card.qr_text))
    assert refused.value.code == "withdrawn"


def test_a_card_from_another_society_is_cancelled_by_the_society_that_took_over(
    own: Society, other: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    local = actions.start_record_from_card(
        other.actor(), str(card.qr_text), consent_language="es", travel_group="alone"
    )
    actions.issue_card(other.actor(), local)  # a new card here: the old one stops everywhere
    with pytest.raises(CardError) as refused:
        actions.read_card(own.actor(), str(card.qr_text))
    assert refused.value.code == "superseded"


def test_withdrawal_in_another_society_cancels_the_carried_card(
    own: Society, other: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    local = actions.start_record_from_card(
        other.actor(), str(card.qr_text), consent_language="es", travel_group="alone"
    )
    people_actions.give_consent(other.actor(), local, "share-network", "es")
    people_actions.withdraw_consent(other.actor(), local, "share-network")
    with pytest.raises(CardError) as refused:
        actions.read_card(own.actor(), str(card.qr_text))
    assert refused.value.code == "withdrawn"


def test_a_short_code_clash_never_opens_another_person(
    own: Society, other: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    stranger = register(other, sex="male", age_band="60+")
    Person.objects.filter(pk=stranger.pk).update(short_code=carrier.short_code)
    reading = actions.read_card(other.actor(), str(card.qr_text))
    assert reading.local_person is None
    local = actions.start_record_from_card(
        other.actor(), str(card.qr_text), consent_language="es", travel_group="alone"
    )
    assert local.pk != stranger.pk
    assert local.short_code != carrier.short_code  # the code was taken here: a new one
    assert actions.read_card(other.actor(), str(card.qr_text)).local_person == local


def test_odd_child_growth_values_still_make_a_card(own: Society, carrier: Person) -> None:
    people_actions.update_health_summary(
        own.actor(),
        carrier,
        child_growth=[
            {"measured_on": "2026-11-20", "weight_kg": 0, "height_cm": 15, "muac_mm": 115.5}
        ],
    )
    card = actions.issue_card(own.actor(), carrier)
    growth = actions.read_card(own.actor(), str(card.qr_text)).summary.child_growth
    assert growth is not None
    assert growth.muac_mm == 116


def test_a_card_text_in_lower_case_is_refused_as_the_spec_says(
    own: Society, carrier: Person
) -> None:
    # Section 1: the prefix and the base45 body are upper case, matched as they are; folding
    # case would also turn a dotless i or a long s into base45 letters. People type the short
    # code, never the QR text.
    card = actions.issue_card(own.actor(), carrier)
    text = str(card.qr_text)
    with pytest.raises(CardError) as refused:
        actions.read_card(own.actor(), text.lower())
    assert refused.value.code == "not_routecare"
    with pytest.raises(CardError) as refused:
        actions.read_card(own.actor(), text[:4] + text[4:].lower())
    assert refused.value.code == "damaged"
    assert actions.read_card(own.actor(), f" \r\n{text}\n").summary.serial == card.serial


def test_only_the_latest_triage_and_no_protection_services_travel(
    own: Society, carrier: Person
) -> None:
    people_actions.record_encounter(
        own.actor(), carrier, services=[("protection", 1), ("water", 1)], triage="green"
    )
    summary = actions.read_card(own.actor(), str(actions.issue_card(own.actor(), carrier).qr_text))
    assert summary.summary.triage == "green"  # the red of the earlier visit is history
    assert all("protection" not in e.services for e in summary.summary.encounters)


def test_partners_are_not_told_where_the_card_was_issued(own: Society, carrier: Person) -> None:
    card = actions.issue_card(own.actor(), carrier)
    assert actions.read_card(own.actor("partner"), str(card.qr_text)).issued_at_point is None
    assert actions.read_card(own.actor(), str(card.qr_text)).issued_at_point == own.point


def test_follow_ups_on_the_card_become_the_next_point_to_do_list(
    own: Society, other: Society, carrier: Person
) -> None:
    card = actions.issue_card(own.actor(), carrier)
    local = actions.start_record_from_card(
        other.actor(), str(card.qr_text), consent_language="es", travel_group="alone"
    )
    texts = [str(f.text) for f in local.follow_ups.all()]
    assert texts == [f"{own.point.code}: needs insulin refill"]
    done = people_actions.complete_follow_up(other.actor(), local.follow_ups.get())
    assert done.done_at is not None


def test_long_texts_are_shortened_with_a_marker_and_counted_never_silently(
    own: Society, carrier: Person
) -> None:
    # Regression: a 100-character allergy and an 80-character dose were cut to 60/40 with no
    # marker, allergies beyond 20 vanished, and key 19 said nothing of either.
    long_allergy = "penicillin and every other beta-lactam antibiotic, including " + (
        "amoxicillin and cephalosporins"
    )
    assert len(long_allergy) > 60
    allergies = [long_allergy, *(f"allergen number {n}" for n in range(1, 25))]
    dose = "two puffs every four hours when short of breath, and before exercise"
    assert 40 < len(dose) <= 80
    people_actions.update_health_summary(
        own.actor(),
        carrier,
        allergies=allergies,
        medicines=[{"name": "salbutamol inhaler", "dose": dose, "days_supply": 30}],
    )
    card = actions.issue_card(own.actor(), carrier)
    summary = actions.read_card(own.actor(), str(card.qr_text)).summary
    first = summary.allergies[0]
    assert len(first) == 60
    assert first.endswith("…")
    assert long_allergy.startswith(first[:-1])
    assert summary.dropped["allergies"] == 25 - len(summary.allergies) + 1
    assert card.dropped == summary.dropped
    if summary.medicines:
        assert summary.medicines[0].dose.endswith("…")
        assert len(summary.medicines[0].dose) == 40
    assert summary.dropped.get("medicines", 0) >= 1


def test_an_item_shortened_and_then_left_off_counts_once() -> None:
    summary = CardSummary.model_validate(
        {
            "short_code": "RC-7K3M-9QE",
            "serial": "0123456789abcdef",
            "issued_at": "2026-11-20T14:30:00Z",
            "issued_at_point": "hnd-danli",
            "allergies": ["a" * 59 + "…", "latex"],
            "dropped": {"allergies": 3},  # three beyond the list's limit
        }
    )
    sizes = iter([10_000, 10_000, 10])  # too large twice: both allergies are left off

    fitted, _text = fit(summary, lambda candidate: "X" * next(sizes), {"allergies": {0}})
    assert fitted.allergies == []
    assert fitted.dropped == {"allergies": 5}
    unchanged, _text = fit(summary, lambda candidate: "X", {"allergies": {0}})
    assert unchanged.dropped == {"allergies": 4}


def test_the_reader_and_the_issuer_are_told_what_is_not_whole_on_the_card(
    own: Society, other: Society, carrier: Person, web: Callable[..., Client]
) -> None:
    people_actions.update_health_summary(
        own.actor(),
        carrier,
        allergies=["penicillin and every other beta-lactam antibiotic ever", "x" * 70],
    )
    card = actions.issue_card(own.actor(), carrier)
    assert card.dropped == {"allergies": 1}
    reading = web(other.volunteer, other.point).post("/cards/scan/", {"text": str(card.qr_text)})
    assert "1 × Allergies" in reading.content.decode()
    page = web(own.volunteer, own.point).get(f"/people/{carrier.pk}/card/")
    assert "1 × Allergies" in page.content.decode()


def test_an_old_card_starts_a_record_with_values_judged_when_it_was_issued(
    own: Society, other: Society, keys: None
) -> None:
    # Issued 300 days ago, expecting a birth 200 days after that: long past today, but right
    # when the card was issued. The new record keeps it rather than refusing the card.
    from routecare.cards import tooling

    issued = timezone.now().replace(microsecond=0) - dt.timedelta(days=300)
    summary = {
        "short_code": "RC-7K3M-9QE",
        "issued_at": issued.isoformat(),
        "issued_at_point": own.point.code,
        "consents": ["care", "share-network"],
        "sex": "female",
        "age_band": "18-59",
        "pregnancy": {"weeks": 12, "expected_date": (issued + dt.timedelta(days=200)).date()
                      .isoformat()},
        "follow_ups": [{"text": "x" * 500, "urgency": "routine"}],
    }  # fmt: skip
    text, _dropped = tooling.encode_json(json.dumps(summary), own.society.country_code)
    local = actions.start_record_from_card(
        other.actor(), text, consent_language="es", travel_group="alone"
    )
    assert local.health_summary.pregnancy["weeks"] == 12
    follow_up = local.follow_ups.get()
    assert len(follow_up.text) == 500
    assert follow_up.text.endswith("…")  # the point's code made it longer: shortened, marked
