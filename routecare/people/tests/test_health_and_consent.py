import datetime as dt
from collections.abc import Callable

from django.test import Client
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.conftest import Society
from routecare.people import actions
from routecare.people.models import Consent, HealthSummary, Person

# Within the ten months an expected delivery may lie ahead of the change.
EXPECTED = (timezone.now().date() + dt.timedelta(days=90)).isoformat()


def test_health_summary_is_edited_on_the_web(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    client = web(own.volunteer, own.point)
    assert client.get(f"/people/{own_person.pk}/health/").status_code == 200
    response = client.post(
        f"/people/{own_person.pk}/health/",
        {
            "allergies": "penicillin\nlatex\n",
            "conditions": "asthma",
            "pregnancy_weeks": "20",
            "pregnancy_expected": EXPECTED,
            "growth_weight_kg": "",
            "vaccine": "measles",
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-0-name": "salbutamol",
            "form-0-dose": "2 puffs",
            "form-0-quantity": "1",
            "form-0-days_supply": "30",
            "form-1-name": "",
        },
    )
    assert response.status_code == 302
    summary = HealthSummary.objects.get(person=own_person)
    assert summary.allergies == ["penicillin", "latex"]
    assert summary.conditions == ["asthma"]
    assert summary.pregnancy == {"weeks": 20, "expected_date": EXPECTED}
    assert summary.medicines[0]["name"] == "salbutamol"
    assert summary.medicines[0]["days_supply"] == 30
    assert summary.vaccinations[0]["vaccine"] == "measles"
    change = AuditEvent.objects.filter(object_type="health_summary", action="change").first()
    assert change is not None
    assert "allergies" in change.fields
    assert "medicines" in change.fields


def test_bad_health_input_changes_nothing(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    response = web(own.volunteer, own.point).post(
        f"/people/{own_person.pk}/health/",
        {
            "allergies": "peanuts",
            "pregnancy_weeks": "90",
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "0",
            "form-0-dose": "5 mg",
        },
    )
    assert response.status_code == 200
    assert b"less than or equal to 45" in response.content
    assert b"Name the medicine." in response.content
    assert HealthSummary.objects.get(person=own_person).allergies == ["penicillin"]


def test_api_patches_only_the_given_fields(
    own: Society, own_person: Person, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    response = client.patch(
        f"/api/v1/people/{own_person.pk}/health-summary",
        {"conditions": ["diabetes"], "pregnancy": {"weeks": 12}},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["allergies"] == ["penicillin"]
    assert response.json()["conditions"] == ["diabetes"]
    bad = client.patch(
        f"/api/v1/people/{own_person.pk}/health-summary",
        {"medicines": [{"name": ""}], "pregnancy": {"weeks": 99}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert HealthSummary.objects.get(person=own_person).conditions == ["diabetes"]


def test_api_refuses_null_for_a_list_and_changes_nothing(
    own: Society, own_person: Person, api: Callable[..., Client]
) -> None:
    # Found by the API fuzzer: a null list reached the database (500).
    client = api(own.volunteer, own.point)
    url = f"/api/v1/people/{own_person.pk}/health-summary"
    refused = client.patch(
        url, {"conditions": None, "allergies": ["latex"]}, content_type="application/json"
    )
    assert refused.status_code == 422
    assert refused.json() == {
        "detail": {"conditions": ["Leave a field out to keep it; it cannot be emptied with null."]}
    }
    assert HealthSummary.objects.get(person=own_person).allergies == ["penicillin"]
    client.patch(url, {"pregnancy": {"weeks": 12}}, content_type="application/json")
    cleared = client.patch(url, {"pregnancy": None}, content_type="application/json")
    assert cleared.status_code == 200
    assert cleared.json()["pregnancy"] is None


def test_reading_the_health_summary_is_audited(
    own: Society, own_person: Person, api: Callable[..., Client]
) -> None:
    before = AuditEvent.objects.filter(object_type="health_summary", action="read").count()
    api(own.volunteer, own.point).get(f"/api/v1/people/{own_person.pk}/health-summary")
    after = AuditEvent.objects.filter(object_type="health_summary", action="read")
    assert after.count() == before + 1
    event = after.order_by("-at").first()
    assert event is not None
    assert event.actor == own.volunteer
    assert event.service_point == own.point
    assert event.via == "api"


def test_consent_is_given_and_withdrawn_at_once(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    client = web(own.volunteer, own.point)
    url = f"/people/{own_person.pk}/consents/"
    client.post(url, {"purpose": "messaging", "decision": "give", "language": "ar"})
    consent = Consent.objects.get(person=own_person, purpose="messaging")
    assert consent.language == "ar"
    assert consent.wording_version
    assert consent.recorded_by == own.volunteer
    client.post(url, {"purpose": "messaging", "decision": "withdraw"})
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert consent.withdrawn_by == own.volunteer
    assert AuditEvent.objects.filter(person_id=own_person.pk, action="consent").count() >= 3


def test_bad_consent_changes_nothing(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    before = Consent.objects.count()
    response = web(own.volunteer, own.point).post(
        f"/people/{own_person.pk}/consents/", {"purpose": "sell-data", "decision": "give"}
    )
    assert response.status_code == 302
    assert Consent.objects.count() == before


def test_giving_consent_twice_keeps_one_active_consent(own: Society, own_person: Person) -> None:
    actions.give_consent(own.actor(), own_person, "share-partners", "es")
    actions.give_consent(own.actor(), own_person, "share-partners", "es")
    assert Consent.objects.filter(person=own_person, purpose="share-partners").count() == 1
    assert actions.withdraw_consent(own.actor(), own_person, "share-partners") == 1
    assert actions.withdraw_consent(own.actor(), own_person, "share-partners") == 0


def test_api_consents(own: Society, own_person: Person, api: Callable[..., Client]) -> None:
    client = api(own.volunteer, own.point)
    given = client.post(
        f"/api/v1/people/{own_person.pk}/consents",
        {"purpose": "messaging", "language": "fr"},
        content_type="application/json",
    )
    assert given.status_code == 201
    listed = client.get(f"/api/v1/people/{own_person.pk}/consents").json()
    assert {c["purpose"] for c in listed} == {"care", "messaging"}
    withdrawn = client.post(f"/api/v1/people/{own_person.pk}/consents/messaging/withdraw")
    assert withdrawn.json() == {"withdrawn": 1}
    bad = client.post(f"/api/v1/people/{own_person.pk}/consents/everything/withdraw")
    assert bad.status_code == 422


def test_person_page_names_countries_and_languages_in_the_reader_language(
    own: Society, web: Callable[..., Client]
) -> None:
    from routecare.conftest import register

    person = register(own, nationality="VE", languages=["es", "ar"], vulnerabilities=["pregnant"])
    client = web(own.volunteer, own.point)
    client.cookies["django_language"] = "es"
    page = client.get(f"/people/{person.pk}/").content.decode()
    assert 'lang="es"' in page
    assert "Venezuela" in page
    assert "español" in page
    assert "árabe" in page
    client.cookies["django_language"] = "ar"
    page = client.get(f"/people/{person.pk}/").content.decode()
    assert 'dir="rtl"' in page
    assert "فنزويلا" in page
