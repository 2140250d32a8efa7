"""The staff pages refuse what the API refuses, with the same definitions (core.fields): a
message on the field, nothing stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from routecare.conftest import Society, register
from routecare.feedback.actions import About, submit_feedback
from routecare.feedback.forms import NoteForm, RecordFeedbackForm
from routecare.feedback.models import FeedbackNote
from routecare.people.forms import EncounterForm, HealthSummaryForm, RegisterPersonForm
from routecare.people.models import Encounter, FollowUp, HealthSummary, Person
from routecare.referrals import partner
from routecare.referrals.actions import Destination, send_referral
from routecare.referrals.forms import RespondForm
from routecare.referrals.models import Referral, ReferralResponse

TODAY = timezone.now().date()

HEALTH = {
    "allergies": "penicillin",
    "conditions": "",
    "form-TOTAL_FORMS": "1",
    "form-INITIAL_FORMS": "0",
    "form-0-name": "",
}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"allergies": "penicillin\nlat\x00ex"}, "allergies",
         "Line 2: Remove the control characters (such as NUL)."),
        ({"allergies": "a" * 201}, "allergies", "Line 1: Keep it to 200 characters or fewer."),
        ({"conditions": "asthma\u202e"}, "conditions",
         "Line 1: Remove the invisible direction-control characters."),
        ({"allergies": "\n".join(f"allergy {n}" for n in range(51))}, "allergies",
         "Give at most 50 lines."),
        ({"pregnancy_weeks": "20", "pregnancy_expected": "9999-12-31"}, "pregnancy_expected",
         "Give a date from"),
        ({"pregnancy_weeks": "20", "pregnancy_expected": "1900-01-01"}, "pregnancy_expected",
         "Give a date from"),
        ({"vaccine": "measles\x1b"}, "vaccine", "Remove the control characters (such as NUL)."),
    ],
)  # fmt: skip
def test_the_health_form_refuses_by_field_and_stores_nothing(
    own: Society, web: Callable[..., Client], changes: dict[str, str], field: str, message: str
) -> None:
    person = register(own)
    answer = web(own.volunteer, own.point).post(
        f"/people/{person.pk}/health/", {**HEALTH, **changes}
    )
    assert answer.status_code == 200
    errors = answer.context["form"].errors[field]
    assert any(error.startswith(message) for error in errors), errors
    assert not HealthSummary.objects.filter(person=person).exists()


def test_the_health_form_keeps_persian_joiners_and_blank_lines_out(
    own: Society, web: Callable[..., Client]
) -> None:
    person = register(own)
    allergies = "پنی\u200cسیلین\r\n\n  latex  \n"
    answer = web(own.volunteer, own.point).post(
        f"/people/{person.pk}/health/", {**HEALTH, "allergies": allergies}
    )
    assert answer.status_code == 302
    assert HealthSummary.objects.get(person=person).allergies == ["پنی\u200cسیلین", "latex"]


def test_a_medicine_dispensed_in_the_future_is_refused(
    own: Society, web: Callable[..., Client]
) -> None:
    person = register(own)
    later = (TODAY + dt.timedelta(days=30)).isoformat()
    answer = web(own.volunteer, own.point).post(
        f"/people/{person.pk}/health/",
        {**HEALTH, "form-0-name": "insulin", "form-0-dispensed_on": later},
    )
    assert answer.status_code == 200
    assert answer.context["medicines"].forms[0].non_field_errors() == [
        "The date cannot be in the future."
    ]
    assert not HealthSummary.objects.filter(person=person).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"notes": "see\u202edoctor"}, "notes"),
        ({"notes": "n" * 1001}, "notes"),
        ({"follow_up_text": "re-check\x00"}, "follow_up_text"),
        ({"follow_up_text": "re-check", "follow_up_due": "9999-12-31"}, "follow_up_due"),
    ],
)
def test_the_encounter_form_refuses_by_field_and_stores_nothing(
    own: Society, web: Callable[..., Client], data: dict[str, str], field: str
) -> None:
    person = register(own)
    answer = web(own.volunteer, own.point).post(
        f"/people/{person.pk}/encounters/new/", {"service-first-aid": "1", **data}
    )
    assert answer.status_code == 200
    assert answer.context["form"].errors[field]
    assert not Encounter.objects.filter(person=person).exists()
    assert not FollowUp.objects.filter(person=person).exists()


def test_the_registration_form_refuses_a_control_character_in_the_alias(
    own: Society, web: Callable[..., Client]
) -> None:
    answer = web(own.volunteer, own.point).post(
        "/people/register/",
        {"sex": "female", "age_band": "18-59", "travel_group": "alone", "alias": "M\x00K",
         "consents": ["care"], "consent_language": "es"},
    )  # fmt: skip
    assert answer.status_code == 200
    assert answer.context["form"].errors["alias"] == [
        "Remove the control characters (such as NUL)."
    ]
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("form", "data", "field"),
    [
        (NoteForm, {"text": "called\x00"}, "text"),
        (NoteForm, {"text": "n" * 2001}, "text"),
        (RespondForm, {"action": "decline", "note": "full\u2066"}, "note"),
        (EncounterForm, {"service-water": "1", "notes": "\x07"}, "notes"),
        (HealthSummaryForm, {"allergies": "ok\n\x0b"}, "allergies"),
    ],
)
def test_forms_refuse_what_the_api_refuses(form: Any, data: dict[str, str], field: str) -> None:
    bound = form(data)
    assert not bound.is_valid()
    assert bound.errors[field]


def test_forms_keep_what_multi_line_texts_may_hold() -> None:
    assert NoteForm({"text": "line one\n\tline two"}).is_valid()
    assert RespondForm({"action": "accept", "note": "ok\r\nthanks"}).is_valid()


def test_the_registration_form_offers_only_language_codes(db: None) -> None:
    from routecare.core.fields import is_language_code

    form = RegisterPersonForm()
    codes = [code for code, _label in form.fields["languages"].choices]  # type: ignore[attr-defined]
    assert "ti" in codes
    assert "wo" in codes
    assert all(is_language_code(code) for code in codes)


def test_the_staff_feedback_form_refuses_a_bidi_override(own: Society) -> None:
    form = RecordFeedbackForm(
        {"about": "general", "category": "question", "text": "where\u202e", "language": "es",
         "form_token": "t" * 20},
        network=own.society.network,
    )  # fmt: skip
    assert not form.is_valid()
    assert form.errors["text"] == ["Remove the invisible direction-control characters."]


def test_a_staff_note_with_a_control_character_is_refused_on_the_page(
    own: Society, web: Callable[..., Client]
) -> None:
    item, _new = submit_feedback(
        about=About(own.society.network, own.society), category="question", text="¿Agua?",
        language="es", form_token="forms-feedback-0000",
    )  # fmt: skip
    client = web(own.focal_point, own.point)
    answer = client.post(f"/feedback/{item.pk}/note/", {"text": "called\x00"}, follow=True)
    assert "Remove the control characters (such as NUL)." in answer.content.decode()
    assert not FeedbackNote.objects.exists()


def test_a_megabyte_partner_note_is_refused_not_cut(own: Society) -> None:
    person = register(own, consents=["care", "share-partners"])
    referral = send_referral(
        own.actor("focal_point"), person, destination=Destination(partner_name="Clínica"),
        referral_type="health", service="first-aid", reason="wound", idempotency_key="forms-01",
    )  # fmt: skip
    token = partner.new_link_token(own.actor(), referral)
    page = f"/partner/referrals/{token}/"
    refused = Client().post(page, {"outcome": "completed", "note": "x" * 1_000_000})
    assert refused.status_code == 400
    assert b"Keep it to 1000 characters or fewer." in refused.content
    assert len(refused.content) < 20_000  # the note is not echoed back
    assert Referral.objects.get(pk=referral.pk).status == "sent"
    assert ReferralResponse.objects.filter(referral=referral).count() == 1  # "sent" only
    # The link was not used up by the refusal.
    assert Client().post(page, {"outcome": "completed", "note": "done"}).status_code == 200
    assert Referral.objects.get(pk=referral.pk).status == "completed"
