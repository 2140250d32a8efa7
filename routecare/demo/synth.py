"""Large synthetic journeys for benchmarks, written with bulk inserts on both databases."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from routecare.demo.routes import NETWORKS
from routecare.orgs.models import RouteStop, ServicePoint
from routecare.orgs.taxonomy import AgeBand, Service, Sex, TriageColour
from routecare.people import shortcode
from routecare.people.consent import WORDING_VERSION
from routecare.people.models import (
    Consent,
    ConsentPurpose,
    Encounter,
    EncounterService,
    FollowUp,
    HealthSummary,
    Person,
    PopulationGroup,
    TravelGroup,
)

BATCH = 2000
NATIONALITIES = ("VE", "HT", "CO", "EC", "CU", "AF", "SY", "PK", "MA", "IN", "BD", "CN")
POPULATION_GROUPS = (
    PopulationGroup.ON_THE_MOVE,
    PopulationGroup.RETURNEE,
    PopulationGroup.HOST_COMMUNITY,
)
SERVICES = Service.values


def _journeys_by_society() -> dict[uuid.UUID, list[ServicePoint]]:
    """Service points of each society in route order, so journeys move forward. Only the
    demo networks' routes: the benchmarks' own networks keep exactly the data they made."""
    points: dict[uuid.UUID, list[ServicePoint]] = defaultdict(list)
    stops = RouteStop.objects.filter(route__network__slug__in=[spec.slug for spec in NETWORKS])
    for stop in stops.select_related("service_point").order_by("route", "position"):
        points[stop.service_point.national_society_id].append(stop.service_point)
    return points


def make_people(count: int, seed: int = 7) -> int:
    """Create ``count`` synthetic people with 1-3 encounters each; returns encounters made."""
    rng = random.Random(seed)
    journeys = _journeys_by_society()
    if not journeys:
        raise RuntimeError("load the demo routes first: routecare demo")
    societies = list(journeys)
    taken = set(Person.objects.values_list("short_code", flat=True))
    now = timezone.now()
    made_encounters = 0
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        people: list[Person] = []
        encounters: list[Encounter] = []
        services: list[EncounterService] = []
        summaries: list[HealthSummary] = []
        follow_ups: list[FollowUp] = []
        consents: list[Consent] = []
        for _ in range(size):
            code = shortcode.generate()
            while code in taken:
                code = shortcode.generate()
            taken.add(code)
            society = rng.choice(societies)
            route_points = journeys[society]
            first = rng.randrange(len(route_points))
            visits = route_points[first : first + rng.randint(1, 3)]
            # First seen at least 13 hours ago: their last visit (6 hours apart) is past too.
            seen = now - dt.timedelta(hours=rng.randint(1, 24 * 120) + 12)
            person = Person(
                national_society_id=society,
                short_code=code,
                sex=rng.choice(Sex.values),
                age_band=rng.choice(AgeBand.values),
                nationality=rng.choice(NATIONALITIES),
                languages=["es"] if rng.random() < 0.6 else ["ar"],
                travel_group=rng.choice(TravelGroup.values),
                # Mostly people on the move; some returnees and host-community members.
                population_group=rng.choices(POPULATION_GROUPS, weights=(85, 10, 5))[0],
                vulnerabilities=[],
                registered_at_point=visits[0],
                created_at=seen,
            )
            people.append(person)
            consents.append(
                Consent(
                    person=person,
                    purpose=ConsentPurpose.CARE,
                    wording_version=WORDING_VERSION,
                    language=person.languages[0],
                    recorded_at=seen,
                    recorded_at_point=visits[0],
                )
            )
            for step, point in enumerate(visits):
                occurred = seen + dt.timedelta(hours=6 * step)
                encounter = Encounter(
                    person=person,
                    service_point=point,
                    occurred_at=occurred,
                    # Recorded as it happened: the rollup refresh, which reads what was recorded
                    # since its last run, must not take years of synthetic visits for new ones.
                    recorded_at=occurred,
                    triage=rng.choice(TriageColour.values),
                    notes=None,
                )
                encounters.append(encounter)
                for code_ in rng.sample(SERVICES, rng.randint(1, 3)):
                    services.append(
                        EncounterService(encounter=encounter, service=code_, quantity=1)
                    )
            if rng.random() < 0.3:
                summaries.append(
                    HealthSummary(person=person, allergies=rng.choice([[], ["penicillin"]]))
                )
            if rng.random() < 0.1:
                follow_ups.append(
                    FollowUp(
                        person=person,
                        text="synthetic follow-up",
                        created_at_point=visits[-1],
                        due=(seen + dt.timedelta(days=2)).date(),
                    )
                )
        with transaction.atomic():
            Person.objects.bulk_create(people, batch_size=BATCH)
            Encounter.objects.bulk_create(encounters, batch_size=BATCH)
            EncounterService.objects.bulk_create(services, batch_size=BATCH)
            HealthSummary.objects.bulk_create(summaries, batch_size=BATCH)
            FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH)
            Consent.objects.bulk_create(consents, batch_size=BATCH)
        made_encounters += len(encounters)
    return made_encounters
