"""At the point: a volunteer opens the code the person shows (typed or a photo of the QR), sees
the registration form prefilled, confirms it and saves; once only, within 14 days, audited."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from routecare.audit.models import AuditEvent
from routecare.cards import qr
from routecare.conftest import Society
from routecare.people.models import Consent, HealthSummary, Person
from routecare.preregistration import actions, codes
from routecare.preregistration.models import PreRegistration
from routecare.preregistration.tests.conftest import code_of, send_form

CONFIRMED: dict[str, Any] = {
    "sex": "female",
    "birth_year": "1994",
    "age_band": "",
    "travel_group": "family",
    "person_language": "ps",
    "languages": ["fa"],
    "consents": ["care", "share-network"],
    "consent_language": "ps",
    "allergies": "penicillin\nlatex",
    "medicines": "metformin",
}


@pytest.fixture
def code(db: None) -> str:
    response = send_form(Client(), phone="+93 70 123 4567",
                         consents=["care", "share-network", "messaging"])  # fmt: skip
    assert response.status_code == 201
    return code_of(response)


def _open(client: Client, typed: str) -> Any:
    return client.post("/preregistration/", {"code": typed})


def test_a_volunteer_opens_a_code_and_sees_the_registration_prefilled(
    own: Society, web: Callable[..., Client], code: str
) -> None:
    response = _open(web(own.volunteer, own.point), code.lower().replace("-", " "))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="prereg-confirm"' in body
    assert 'value="female" required id="id_sex_0" checked' in body or (
        'name="sex" value="female"' in body and "checked" in body
    )
    form = response.context["form"]
    assert form.initial["sex"] == "female"
    assert form.initial["travel_group"] == "family"
    assert form.initial["person_language"] == "ps"
    assert form.initial["consents"] == ["care", "share-network", "messaging"]
    assert form.initial["allergies"] == ["penicillin", "latex"]
    assert "penicillin\nlatex" in body
    assert "+93 70 123 4567" in body  # asked for an answer by message
    assert "Water" in body  # help needed today
    # The opening is audited; nothing is stored about a person yet.
    row = PreRegistration.objects.get()
    read = AuditEvent.objects.get(action="read", object_type="preregistration")
    assert read.object_id == str(row.pk)
    assert read.actor == own.volunteer
    assert read.national_society_id == own.society.pk
    assert Person.objects.count() == 0
    assert code not in response.wsgi_request.get_full_path()


def test_confirming_registers_a_person_of_the_volunteers_society_and_empties_it(
    own: Society, web: Callable[..., Client], code: str
) -> None:
    client = web(own.volunteer, own.point)
    response = client.post("/preregistration/confirm/", {**CONFIRMED, "code": code})
    person = Person.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/people/{person.pk}/encounters/new/"
    assert person.national_society == own.society
    assert person.registered_at_point == own.point
    assert (person.sex, person.travel_group, person.age_band) == ("female", "family", "18-59")
    assert person.languages == ["ps", "fa"]
    assert not person.short_code.startswith("P-")
    health = HealthSummary.objects.get(person=person)
    assert health.allergies == ["penicillin", "latex"]
    assert [medicine["name"] for medicine in health.medicines] == ["metformin"]
    # The consents as the volunteer confirmed them (messaging was unticked at the point).
    given = Consent.objects.filter(person=person, withdrawn_at__isnull=True)
    assert {c.purpose: c.language for c in given} == {"care": "ps", "share-network": "ps"}
    row = PreRegistration.objects.get()
    assert row.used_at is not None
    assert (row.details, row.health, row.contact) == (None, None, None)
    used = AuditEvent.objects.get(action="change", object_type="preregistration")
    assert used.person_id == person.pk
    assert AuditEvent.objects.filter(action="create", object_type="person").exists()


def test_a_code_is_used_once_and_a_replay_stores_nothing(
    own: Society, other: Society, web: Callable[..., Client], code: str
) -> None:
    client = web(own.volunteer, own.point)
    client.post("/preregistration/confirm/", {**CONFIRMED, "code": code})
    replayed = client.post("/preregistration/confirm/", {**CONFIRMED, "code": code})
    assert "already used" in replayed.content.decode()
    elsewhere = _open(web(other.volunteer, other.point), code)
    assert "already used" in elsewhere.content.decode()
    assert Person.objects.count() == 1


def test_an_expired_code_opens_nothing(own: Society, web: Callable[..., Client], code: str) -> None:
    PreRegistration.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    client = web(own.volunteer, own.point)
    assert "has expired" in _open(client, code).content.decode()
    confirmed = client.post("/preregistration/confirm/", {**CONFIRMED, "code": code})
    assert "has expired" in confirmed.content.decode()
    assert Person.objects.count() == 0
    assert not AuditEvent.objects.filter(object_type="preregistration").exists()


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "not a pre-registration code"),
        ("hello", "not a pre-registration code"),
        ("RC-7K3M-9Q4", "short code (RC-…)"),
        ("P-0000-001", "typing mistake"),
        ("P-0000-000", "No pre-registration has this code"),
    ],
)
def test_a_code_that_opens_nothing_says_why(
    own: Society, web: Callable[..., Client], code: str, typed: str, said: str
) -> None:
    response = _open(web(own.volunteer, own.point), typed)
    assert response.status_code == 200
    assert said in response.content.decode()
    assert 'data-testid="prereg-confirm"' not in response.content.decode()


def test_a_typo_in_the_code_is_caught_not_matched_to_another(
    own: Society, web: Callable[..., Client], code: str
) -> None:
    compact = codes.parse(code)
    wrong = "1" if compact[2] != "1" else "2"
    typo = f"P-{compact[:2]}{wrong}{compact[3:4]}-{compact[4:]}"
    assert "typing mistake" in _open(web(own.volunteer, own.point), typo).content.decode()


def test_a_photo_of_the_qr_opens_the_code(
    own: Society, web: Callable[..., Client], code: str
) -> None:
    image = Image.open(io.BytesIO(qr.png(code, scale=6))).convert("RGB")
    photo = io.BytesIO()
    image.save(photo, "JPEG", quality=90)
    upload = SimpleUploadedFile("code.jpg", photo.getvalue(), content_type="image/jpeg")
    response = web(own.volunteer, own.point).post("/preregistration/", {"photo": upload})
    assert 'data-testid="prereg-confirm"' in response.content.decode()


def test_a_file_that_is_no_photo_is_refused_clearly(
    own: Society, web: Callable[..., Client], code: str
) -> None:
    upload = SimpleUploadedFile("code.jpg", b"not an image", content_type="image/jpeg")
    response = web(own.volunteer, own.point).post("/preregistration/", {"photo": upload})
    assert response.status_code == 200
    assert "not a photo we can read" in response.content.decode()


def test_a_confirmation_with_bad_answers_is_shown_again_and_stores_nothing(
    own: Society, web: Callable[..., Client], code: str
) -> None:
    client = web(own.volunteer, own.point)
    response = client.post(
        "/preregistration/confirm/", {**CONFIRMED, "code": code, "consents": ["messaging"]}
    )
    assert response.status_code == 200
    assert "Care consent is needed" in response.content.decode()
    assert 'data-testid="prereg-confirm"' in response.content.decode()
    assert Person.objects.count() == 0
    assert PreRegistration.objects.get().details is not None


def test_guessing_codes_at_a_point_is_stopped(
    own: Society, web: Callable[..., Client], code: str
) -> None:
    client = web(own.volunteer, own.point)
    for _n in range(20):
        _open(client, "P-0000-000")
    refused = _open(client, code)
    assert refused.status_code == 429
    assert 'data-testid="prereg-confirm"' not in refused.content.decode()


def test_guessing_codes_through_the_confirmation_is_stopped_too(
    own: Society, web: Callable[..., Client], code: str
) -> None:
    client = web(own.volunteer, own.point)
    for _n in range(20):
        client.post("/preregistration/confirm/", {"code": "P-0000-000"})  # an invalid form
    refused = client.post("/preregistration/confirm/", {**CONFIRMED, "code": code})
    assert refused.status_code == 429
    assert Person.objects.count() == 0
    assert 'data-testid="prereg-confirm"' not in refused.content.decode()


@pytest.mark.parametrize("role", ["partner"])
def test_roles_without_personal_records_cannot_open_a_code(
    own: Society, web: Callable[..., Client], code: str, role: str
) -> None:
    user: User = getattr(own, role)
    assert _open(web(user), code).status_code == 403
    assert web(user).post("/preregistration/confirm/", {**CONFIRMED, "code": code}).status_code == (
        403
    )
    assert Person.objects.count() == 0


def test_regional_staff_cannot_open_a_code(
    regional: User, web: Callable[..., Client], code: str
) -> None:
    assert _open(web(regional), code).status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in(code: str) -> None:
    response = _open(Client(), code)
    assert response.status_code == 302
    assert "/accounts/sign-in/" in response["Location"]
    assert PreRegistration.objects.get().used_at is None


def test_there_is_no_list_of_pre_registrations_anywhere(
    own: Society, web: Callable[..., Client], sysadmin: User, code: str
) -> None:
    assert web(own.focal_point, own.point).get("/preregistration/").status_code == 200
    assert (
        "penicillin"
        not in web(own.focal_point, own.point).get("/preregistration/").content.decode()
    )
    assert web(sysadmin).get("/admin/preregistration/preregistration/").status_code == 404


def test_the_action_refuses_an_actor_who_does_not_handle_records(own: Society, code: str) -> None:
    with pytest.raises(PermissionError):
        actions.register_from_preregistration(
            own.actor("partner"), code, registration={"sex": "female"}
        )
