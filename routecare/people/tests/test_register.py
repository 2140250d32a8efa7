import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from routecare.audit.models import AuditEvent
from routecare.conftest import Society, register
from routecare.people.models import Consent, Person


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sex": "female",
        "birth_year": "1995",
        "age_band": "",
        "travel_group": "alone",
        "person_language": "es",
        "consents": ["care", "share-network"],
        "consent_language": "es",
        "languages": ["es"],
        "nationality": "VE",
    }
    data.update(overrides)
    return data


def test_volunteer_registers_a_person_with_minimum_data(
    own: Society, web: Callable[..., Client]
) -> None:
    client = web(own.volunteer, own.point)
    response = client.post("/people/register/", _form())
    person = Person.objects.get()
    assert response.status_code == 302
    # Straight on to what the person receives today; the page shows the short code.
    assert response["Location"] == f"/people/{person.pk}/encounters/new/"
    assert person.national_society == own.society
    assert person.age_band == "18-59"
    assert person.registered_at_point == own.point
    assert person.population_group == "on-the-move"  # the default when not chosen
    assert set(Consent.objects.filter(person=person).values_list("purpose", flat=True)) == {
        "care",
        "share-network",
    }
    page = client.get(response["Location"])
    assert person.short_code.encode() in page.content
    assert AuditEvent.objects.filter(person_id=person.pk, action="create").exists()
    assert AuditEvent.objects.filter(person_id=person.pk, action="consent").count() == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sex": "robot"}, b"Select a valid choice"),
        ({"birth_year": "", "age_band": ""}, b"Give a birth year or an age band."),
        ({"birth_year": "1700"}, b"Ensure this value is greater than or equal to 1900."),
        ({"birth_year": "2099"}, b"Enter a realistic birth year."),
        ({"consents": ["share-network"]}, b"Care consent is needed to keep a record."),
        ({"nationality": "XX"}, b"Select a valid choice"),
        ({"alias": "x" * 50}, b"Ensure this value has at most 20 characters"),
    ],
)
def test_bad_registration_input_is_explained_and_writes_nothing(
    own: Society, web: Callable[..., Client], overrides: dict[str, Any], message: bytes
) -> None:
    response = web(own.volunteer, own.point).post("/people/register/", _form(**overrides))
    assert response.status_code == 200
    assert message in response.content
    assert Person.objects.count() == 0
    assert Consent.objects.count() == 0


def test_registration_messages_are_translated(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.volunteer, own.point)
    client.cookies["django_language"] = "es"
    response = client.post("/people/register/", _form(consents=["messaging"]))
    assert "se necesita el consentimiento para la atención".encode() in response.content
    assert Person.objects.count() == 0


def test_household_members_are_linked(own: Society, web: Callable[..., Client]) -> None:
    first = register(own)
    client = web(own.volunteer, own.point)
    response = client.post(f"/people/register/?household_of={first.pk}", _form())
    second = Person.objects.exclude(pk=first.pk).get()
    first.refresh_from_db()
    assert response.status_code == 302
    assert first.household_id is not None
    assert second.household_id == first.household_id
    assert first.short_code.encode() in client.get(f"/people/{second.pk}/").content


def test_household_of_another_society_is_not_found(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    stranger = register(other)
    response = web(own.volunteer, own.point).post(
        f"/people/register/?household_of={stranger.pk}", _form()
    )
    assert response.status_code == 404
    assert Person.objects.count() == 1


def test_api_registers_a_person(own: Society, api: Callable[..., Client]) -> None:
    response = api(own.volunteer, own.point).post(
        "/api/v1/people",
        {
            "sex": "male",
            "age_band": "5-11",
            "travel_group": "family",
            "consents": ["care"],
            "population_group": "returnee",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["short_code"].startswith("RC-")
    assert body["registered_at_point"] == own.point.code
    assert body["population_group"] == "returnee"
    assert AuditEvent.objects.filter(person_id=body["id"], via="api").exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"sex": "male"},
        {"sex": "male", "age_band": "5-11", "consents": [], "travel_group": "alone"},
        {
            "sex": "male",
            "age_band": "5-11",
            "vulnerabilities": ["alien"],
            "travel_group": "alone",
            "consents": ["care"],
        },
        {"sex": "male", "age_band": "120+", "travel_group": "alone", "consents": ["care"]},
        {"sex": "male", "age_band": "5-11"},  # who they travel with: never assumed
        {"sex": "male", "age_band": "5-11", "travel_group": "together", "consents": ["care"]},
        {"sex": "male", "age_band": "5-11", "travel_group": "alone"},  # consent never assumed
        {"sex": "male", "birth_year": 1800, "travel_group": "alone", "consents": ["care"]},
        {
            "sex": "male",
            "age_band": "5-11",
            "nationality": "Venezuela",
            "travel_group": "alone",
            "consents": ["care"],
        },
        {"sex": ["male"], "age_band": "5-11", "travel_group": "alone", "consents": ["care"]},
    ],
)
def test_api_rejects_bad_bodies_with_422_and_writes_nothing(
    own: Society, api: Callable[..., Client], body: dict[str, Any]
) -> None:
    response = api(own.volunteer, own.point).post(
        "/api/v1/people", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert "detail" in response.json()
    assert Person.objects.count() == 0


def test_api_rejects_malformed_json(own: Society, api: Callable[..., Client]) -> None:
    response = api(own.volunteer, own.point).post(
        "/api/v1/people", "{not json", content_type="application/json"
    )
    assert response.status_code in (400, 422)
    assert Person.objects.count() == 0


def test_api_without_service_point_cannot_register(
    own: Society, api: Callable[..., Client]
) -> None:
    response = api(own.volunteer, None).post(
        "/api/v1/people",
        {"sex": "male", "age_band": "5-11", "travel_group": "alone", "consents": ["care"]},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "service point" in response.json()["detail"]
    assert Person.objects.count() == 0


def test_api_errors_are_translated(own: Society, api: Callable[..., Client]) -> None:
    client = api(own.volunteer, own.point)
    response = client.post(
        "/api/v1/people",
        {"age_band": "5-11", "birth_year": 1800},
        content_type="application/json",
        headers={"Accept-Language": "fr"},
    )
    messages = {tuple(error["loc"]): error["msg"] for error in response.json()["detail"]}
    assert messages[("body", "payload", "sex")] == "Ce champ est obligatoire."
    assert "1900" in messages[("body", "payload", "birth_year")]
    domain = client.post(
        "/api/v1/people",
        {"sex": "male", "age_band": "5-11", "consents": ["messaging"], "travel_group": "alone"},
        content_type="application/json",
        headers={"Accept-Language": "es"},
    )
    assert "consentimiento" in domain.json()["detail"]["consents"][0]


@pytest.mark.parametrize(
    "body",
    [
        {
            "sex": "male",
            "age_band": "5-11",
            "consent_language": "e\u0000",
            "travel_group": "alone",
            "consents": ["care"],
        },
        {
            "sex": "male",
            "age_band": "5-11",
            "languages": ["\u0000"],
            "travel_group": "alone",
            "consents": ["care"],
        },
        {
            "sex": "male",
            "age_band": "5-11",
            "languages": ["x" * 100_000],
            "travel_group": "alone",
            "consents": ["care"],
        },
        {
            "sex": "male",
            "age_band": "5-11",
            "nationality": "ZZ",
            "travel_group": "alone",
            "consents": ["care"],
        },
    ],
)
def test_api_rejects_control_characters_and_unknown_codes(
    own: Society, api: Callable[..., Client], body: dict[str, Any]
) -> None:
    response = api(own.volunteer, own.point).post(
        "/api/v1/people", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert Person.objects.count() == 0


def test_repeated_consent_purposes_count_once(own: Society, api: Callable[..., Client]) -> None:
    response = api(own.volunteer, own.point).post(
        "/api/v1/people",
        {
            "sex": "female",
            "age_band": "18-59",
            "consents": ["care", "care"],
            "travel_group": "alone",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Consent.objects.filter(purpose="care").count() == 1


def test_nothing_about_the_person_is_preselected(own: Society, web: Callable[..., Client]) -> None:
    page = web(own.volunteer, own.point).get("/people/register/").content.decode()
    assert " checked" not in page  # no travel group, group, sex or consent chosen for them
    assert re.search(r'<select name="person_language"[^>]*required', page)
    assert re.search(r'<input type="radio" name="travel_group"[^>]*required', page)
    assert re.search(r'<input type="checkbox" name="consents" value="care"[^>]*required', page)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("travel_group", "Say whether the person travels alone, with family, or is an"),
        ("person_language", "Choose the language the person understands best."),
    ],
)
def test_who_they_travel_with_and_their_language_must_be_answered(
    own: Society, web: Callable[..., Client], missing: str, message: str
) -> None:
    data = _form()
    del data[missing]
    response = web(own.volunteer, own.point).post("/people/register/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Person.objects.count() == 0


def test_the_persons_language_comes_first_and_the_consent_records_the_language_shown(
    own: Society, web: Callable[..., Client]
) -> None:
    response = web(own.volunteer, own.point).post(
        "/people/register/",
        _form(
            person_language="ps", languages=["fa", "ps"], consent_language="en", consent_shown="on"
        ),
    )
    assert response.status_code == 302
    person = Person.objects.get()
    assert person.languages == ["ps", "fa"]
    assert set(Consent.objects.values_list("language", flat=True)) == {"ps"}
