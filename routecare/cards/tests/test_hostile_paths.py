"""Hostile cards through every way a card is read: the web *Read a card* form, the API (text
and photo) and the command line. Nothing answers 500; every refusal is a clear message."""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Callable

import cbor2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from routecare.cards import api as cards_api
from routecare.cards import fuzzing, qr
from routecare.cards.models import CardKey, SigningKey
from routecare.conftest import Society
from routecare.people.models import Person

# Fewer than the pure property test: each example is two requests.
EXAMPLES = 300


@pytest.fixture
def fuzzing_keys(own: Society) -> None:
    """The throw-away keys of cards.fuzzing, as the network's card key and a trust-list key, so
    that hostile cards reach every stage of the reader behind the web and API paths."""
    network = own.society.network
    network.card_number = fuzzing.NETWORK
    network.save(update_fields=["card_number"])
    CardKey.objects.create(
        network=network,
        kid=fuzzing.CARD_KEY.kid.hex(),
        secret=b64encode(fuzzing.CARD_KEY.secret).decode("ascii"),
    )
    SigningKey.objects.create(
        national_society=own.society,
        kid=fuzzing.SIGNING_KEY.kid.hex(),
        seed=b64encode(fuzzing.SIGNING_KEY.seed).decode("ascii"),
        public_key=fuzzing.SIGNING_KEY.public_bytes().hex(),
    )


# A header anyone can print: [1, <a 4,575-digit number>, kid]. Python refuses to turn such an
# integer into text, which the cache key did: 500 on the web form, the API and the photo upload.
HUGE_HEADER_TEXT = fuzzing.with_header(cbor2.dumps([1, 10**4574, bytes(4)]), bytes(40))


def test_the_web_form_refuses_a_huge_network_number(
    own: Society, fuzzing_keys: None, web: Callable[..., Client]
) -> None:
    response = web(own.volunteer, own.point).post("/cards/scan/", {"text": HUGE_HEADER_TEXT})
    assert response.status_code == 200
    assert b"damaged or incomplete" in response.content


def test_the_api_refuses_a_huge_network_number_as_text_and_as_photo(
    own: Society, fuzzing_keys: None, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    read = client.post(
        "/api/v1/cards/read", {"text": HUGE_HEADER_TEXT}, content_type="application/json"
    )
    assert (read.status_code, read.json()["code"]) == (422, "damaged")
    photo = SimpleUploadedFile("card.png", qr.png(HUGE_HEADER_TEXT, scale=2), "image/png")
    from_photo = client.post("/api/v1/cards/read-photo", {"photo": photo})
    assert (from_photo.status_code, from_photo.json()["code"]) == (422, "damaged")


def test_a_sealed_record_with_a_day_beyond_the_calendar_is_refused_on_every_path(
    own: Society, fuzzing_keys: None, web: Callable[..., Client], api: Callable[..., Client]
) -> None:
    record = cbor2.loads(fuzzing.VALID_RECORD)
    record[17] = [[2**39, "hnd-danli", [1]]]
    text = fuzzing.sealed_record(cbor2.dumps(record))
    page = web(own.volunteer, own.point).post("/cards/scan/", {"text": text})
    assert b"damaged or incomplete" in page.content
    read = api(own.volunteer, own.point).post(
        "/api/v1/cards/read", {"text": text}, content_type="application/json"
    )
    assert (read.status_code, read.json()["code"]) == (422, "damaged")


def test_the_fuzzing_keys_open_a_valid_card_on_the_api(
    own: Society, fuzzing_keys: None, api: Callable[..., Client]
) -> None:
    text = fuzzing.sealed_record(fuzzing.VALID_RECORD)
    read = api(own.volunteer, own.point).post(
        "/api/v1/cards/read", {"text": text}, content_type="application/json"
    )
    assert read.status_code == 200
    assert read.json()["summary"]["allergies"] == ["penicillin"]


def test_no_hostile_card_gets_a_500_from_the_web_form_or_the_api(
    own: Society, fuzzing_keys: None, web: Callable[..., Client], api: Callable[..., Client]
) -> None:
    page_client = web(own.volunteer, own.point)
    api_client = api(own.volunteer, own.point)
    people = Person.objects.count()
    answers: dict[int, int] = {}

    def through_the_paths(text: str) -> None:
        response = api_client.post(
            "/api/v1/cards/read", {"text": text}, content_type="application/json"
        )
        answers[response.status_code] = answers.get(response.status_code, 0) + 1
        assert response.status_code in (200, 422), text
        body = response.json()
        if response.status_code == 422 and "code" in body:
            # A short text of the code's alphabet is looked up as a typed short code.
            reasons = fuzzing.DOCUMENTED_REASONS | cards_api.SHORT_CODE_REASONS
            assert body["code"] in reasons, text
        elif response.status_code == 422:  # the text does not fit the schema (empty, too long)
            assert body["detail"][0]["loc"] == ["body", "body", "text"], text
        page = page_client.post("/cards/scan/", {"text": text})
        assert page.status_code in (200, 302), text

    report = fuzzing.explore(EXAMPLES, seed=1818, on_text=through_the_paths)
    assert report.cases == sum(answers.values()) == EXAMPLES
    assert answers.get(200, 0) > 0  # some hostile-looking inputs are valid cards
    assert Person.objects.count() == people
