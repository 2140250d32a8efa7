from io import StringIO

from django.core.management import call_command
from django.test import Client

from routecare.cards.models import Card, CardKey
from routecare.cash.models import CashEnrolment, CashRound
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.feedback.models import FaqEntry
from routecare.orgs.models import NationalSociety, Route, ServicePoint
from routecare.people.models import Encounter, Person


def test_demo_loads_both_networks_idempotently(db: None, client: Client) -> None:
    out = StringIO()
    call_command("demo", stdout=out)
    counts = (
        NationalSociety.objects.count(),
        ServicePoint.objects.count(),
        Route.objects.count(),
        Person.objects.count(),
        Encounter.objects.count(),
        FaqEntry.objects.count(),
    )
    call_command("demo", stdout=StringIO())
    assert counts == (
        NationalSociety.objects.count(),
        ServicePoint.objects.count(),
        Route.objects.count(),
        Person.objects.count(),
        Encounter.objects.count(),
        FaqEntry.objects.count(),
    )
    assert counts[0] == 11
    # One cash round between Honduras and Guatemala, with one enrolment, loaded once.
    (cash_round,) = CashRound.objects.all()
    assert set(cash_round.participants.values_list("country_code", flat=True)) == {"HN", "GT"}
    assert CashEnrolment.objects.count() == 1
    assert Route.objects.get(slug="darien-north").stops.count() == 13
    assert counts[3] == 7
    # Every demo person carries a card, and every network has its keys.
    assert Card.objects.filter(ended_at=None).count() == 7
    assert CardKey.objects.count() == 2
    assert "hn-volunteer" in out.getvalue()
    assert "routecare-demo" in out.getvalue()
    # The public FAQ of both routes answers in every language of people on the move.
    for country in ("HN", "RS"):
        for language in PERSON_LANGUAGES:
            page = client.get(f"/{language}/faq/?country={country}")
            assert page.status_code == 200
            assert len(page.context["hits"]) == 3, (country, language)


def test_synth_adds_people_with_journeys(db: None) -> None:
    call_command("synth", "--people", "300", stdout=StringIO())
    synthetic = Person.objects.filter(registered_by__isnull=True)
    assert synthetic.count() == 300
    assert Encounter.objects.filter(person__in=synthetic).count() >= 300
    assert len(set(synthetic.values_list("short_code", flat=True))) == 300
    for person in synthetic[:20]:
        societies = set(person.encounters.values_list("service_point__national_society", flat=True))
        assert societies == {person.national_society_id}


def test_demo_and_synth_refuse_a_production_server(db: None, settings: object) -> None:
    import pytest
    from django.core.management.base import CommandError

    settings.PRODUCTION = True  # type: ignore[attr-defined]
    for command in (["demo"], ["synth", "--people", "5"]):
        with pytest.raises(CommandError):
            call_command(*command, stdout=StringIO())
    assert not Person.objects.exists()
    assert not NationalSociety.objects.exists()
