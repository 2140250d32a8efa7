"""The public form `/<lang>/register/`: in the person's language, no account, encrypted at
rest, sent once, refused clearly on bad input (nothing stored), and rate-limited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from routecare.core import person_texts
from routecare.preregistration import actions, codes
from routecare.preregistration.models import PreRegistration
from routecare.preregistration.tests.conftest import ANSWERS, code_of, send_form

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lang", person_texts.PERSON_LANGUAGES)
def test_the_form_is_in_each_language_right_to_left_where_needed(lang: str) -> None:
    response = Client().get(f"/{lang}/register/")
    assert response.status_code == 200
    body = response.content.decode()
    texts = person_texts.texts_for(lang)
    assert texts["prereg_title"] in body
    assert texts["consent_wording_share_network"] in body
    assert f'dir="{"rtl" if person_texts.is_rtl(lang) else "ltr"}"' in body
    # No name, no document number, and nothing of the staff form's.
    assert 'name="alias"' not in body
    assert 'name="name"' not in body


def test_an_unknown_language_goes_to_the_english_form() -> None:
    response = Client().get("/xx/register/")
    assert response.status_code == 302
    assert response["Location"] == "/en/register/"


def test_a_form_sent_gives_a_code_and_a_qr_and_stores_everything_encrypted() -> None:
    response = send_form(Client(), phone="+93 70 123 4567", consents=["care", "messaging"])
    assert response.status_code == 201
    code = code_of(response)
    assert codes.parse(code)
    body = response.content.decode()
    assert "<svg" in body
    assert person_texts.text("prereg_show_at_point", "ps") in body
    row = PreRegistration.objects.get()
    assert row.code_digest == codes.digest(codes.parse(code))
    assert row.expires_at - row.created_at == dt.timedelta(days=14)
    assert row.used_at is None
    assert row.details["travel_group"] == "family"
    assert row.details["age_band"] == "18-59"
    assert row.health == {"allergies": ["penicillin", "latex"], "medicines": ["metformin"]}
    assert row.contact == {"phone": "+93 70 123 4567"}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT details, health, contact, code_digest FROM preregistration_preregistration"
        )
        stored = " ".join(str(value) for value in cursor.fetchone())
    for plain in ("family", "penicillin", "metformin", "4567", codes.parse(code), "P-"):
        assert plain not in stored


def test_the_code_never_appears_in_an_address() -> None:
    response = send_form(Client())
    assert response.status_code == 201  # answered in place, not redirected to a URL with it
    assert not response.has_header("Location")


def test_a_form_sent_twice_is_stored_once_and_shows_the_same_code() -> None:
    client = Client()
    first = send_form(client, form_token="the-same-token-0123456789")
    again = send_form(client, form_token="the-same-token-0123456789")
    assert code_of(first) == code_of(again)
    assert PreRegistration.objects.count() == 1


def test_a_form_sent_again_long_after_does_not_show_its_code_again() -> None:
    now = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    answers = actions.Answers(language="es", sex="male", travel_group="alone", age_band="18-59",
                              consents=["care"])  # fmt: skip
    first = actions.preregister(answers, form_token="a-token-kept-on-a-page", now=now)
    later = actions.preregister(
        answers, form_token="a-token-kept-on-a-page", now=now + dt.timedelta(hours=2)
    )
    assert first.code
    assert first.new
    assert later.code == ""
    assert not later.new
    assert PreRegistration.objects.count() == 1


def test_health_and_phone_are_optional() -> None:
    response = send_form(Client(), allergies="", medicines="", birth_year=None, age_band="60+")
    assert response.status_code == 201
    row = PreRegistration.objects.get()
    assert row.health is None
    assert row.contact is None
    assert row.details["age_band"] == "60+"


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"sex": None}, "prereg_err_sex"),
    ({"sex": "robot"}, "prereg_err_sex"),
    ({"birth_year": None}, "prereg_err_age"),
    ({"birth_year": "1850"}, "prereg_err_age"),
    ({"birth_year": "2999"}, "prereg_err_age"),
    ({"birth_year": "nineteen"}, "prereg_err_age"),
    ({"birth_year": None, "age_band": "100-200"}, "prereg_err_age"),
    ({"travel_group": "children"}, "prereg_err_travel"),
    ({"consents": ["share-network"]}, "prereg_err_care"),
    ({"consents": ["care", "share-partners"]}, "prereg_err_care"),
    ({"services": ["teleportation"]}, "prereg_err_form"),
    ({"languages": ["klingon"]}, "prereg_err_form"),
    ({"allergies": "x" * 201}, "prereg_err_health"),
    ({"allergies": "\n".join(["dust"] * 51)}, "prereg_err_health"),
    ({"medicines": "aspirin\x00"}, "prereg_err_health"),
    ({"medicines": "rtl\u202etrick"}, "prereg_err_health"),
    ({"phone": "+504 9999 0000"}, "prereg_err_phone"),  # no consent to be contacted
    ({"phone": "call me", "consents": ["care", "messaging"]}, "prereg_err_phone"),
    ({"form_token": "short"}, "prereg_err_expired"),
    ({"form_token": None}, "prereg_err_expired"),
    ({"website": "http://spam.example"}, "prereg_err_form"),
]


@pytest.mark.parametrize(("changes", "text"), BAD_INPUT)
def test_bad_input_is_refused_clearly_and_stores_nothing(
    changes: dict[str, Any], text: str
) -> None:
    response = send_form(Client(), lang="fa", **changes)
    assert response.status_code == 400
    assert person_texts.text(text, "fa") in response.content.decode()
    assert PreRegistration.objects.count() == 0


def test_a_refused_form_keeps_what_was_ticked() -> None:
    response = send_form(Client(), sex=None)
    body = response.content.decode()
    assert 'value="family" required checked' in body
    assert 'value="water" checked' in body


def test_a_flood_from_one_connection_creates_nothing_past_the_limit(settings: Any) -> None:
    settings.ROUTECARE_PREREGISTRATIONS_PER_HOUR = 3
    client = Client()
    statuses = [send_form(client).status_code for _n in range(6)]
    assert statuses == [201, 201, 201, 429, 429, 429]
    assert PreRegistration.objects.count() == 3
    refused = send_form(client)
    assert person_texts.text("prereg_too_many", "ps") in refused.content.decode()
    # Another connection is not held back.
    other = Client(REMOTE_ADDR="192.0.2.9")
    assert send_form(other).status_code == 201


def test_a_form_sent_again_is_answered_even_past_the_limit(settings: Any) -> None:
    settings.ROUTECARE_PREREGISTRATIONS_PER_HOUR = 1
    client = Client()
    first = send_form(client, form_token="sent-before-the-limit-0")
    again = send_form(client, form_token="sent-before-the-limit-0")
    assert again.status_code == 201
    assert code_of(again) == code_of(first)


def test_without_the_lookup_key_the_form_says_it_is_unavailable(settings: Any) -> None:
    settings.ROUTECARE_LOOKUP_KEY = ""
    response = send_form(Client(), lang="ur")
    assert response.status_code == 503
    assert person_texts.text("prereg_unavailable", "ur") in response.content.decode()
    assert PreRegistration.objects.count() == 0


def test_the_consent_layers_are_stored_as_given() -> None:
    send_form(Client(), consents=["care", "messaging"], phone="+50499990000")
    assert PreRegistration.objects.get().details["consents"] == ["care", "messaging"]


def test_answers_keep_the_order_given_without_repeats() -> None:
    send_form(Client(), languages=["fa", "ps", "fa"])
    assert PreRegistration.objects.get().details["languages"] == ["fa", "ps"]


def test_the_form_page_is_small_enough_for_2g() -> None:
    response = Client().get("/ps/register/", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert len(response.content) < 12 * 1024


def test_the_answer_to_a_post_is_never_compressed() -> None:
    response = Client().post(
        "/ps/register/",
        {**ANSWERS, "form_token": "never-compressed-token-0"},
        HTTP_ACCEPT_ENCODING="gzip",
    )
    assert response.status_code == 201
    assert not response.has_header("Content-Encoding")
