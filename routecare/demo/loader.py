"""Loading the demo networks, users and people. Idempotent: run it as often as you like."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from routecare.access import Actor, build_actor
from routecare.cards.actions import issue_card
from routecare.cards.keys import ensure_keys
from routecare.demo.cash import load_cash
from routecare.demo.feedback import load_feedback
from routecare.demo.flows import load_flows
from routecare.demo.routes import (
    ADMIN1,
    EMERGENCY_NUMBERS,
    NETWORKS,
    PUBLIC_TEXTS,
    SOCIETY_NAMES,
    NetworkSpec,
    PublicTexts,
)
from routecare.indicators.rollups import refresh_since
from routecare.messaging.models import Channel, ChannelKind
from routecare.orgs.models import (
    Membership,
    NationalSociety,
    Network,
    Role,
    Route,
    RouteStop,
    ServicePoint,
)
from routecare.people import actions
from routecare.people.models import Person

DEMO_PASSWORD = "routecare-demo"  # noqa: S105 - printed for the demo on purpose
SOCIETY_ROLES = (
    ("volunteer", Role.VOLUNTEER),
    ("coordinator", Role.COORDINATOR),
    ("focal", Role.FOCAL_POINT),
    ("partner", Role.PARTNER),
)


@dataclass(frozen=True)
class SignIn:
    username: str
    role: str
    where: str


def _user(username: str, *, staff: bool = False) -> User:
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model.objects.create_user(
            username=username, password=DEMO_PASSWORD, is_staff=staff, is_superuser=staff
        )
    return user


# Ids of the demo's places (uuid5 of their code), not a secret: demo data only.
_DEMO_NAMESPACE = uuid.UUID("6f1c2f0e-5d1a-4c55-9b3e-7a0d2c9e4b11")


def demo_id(kind: str, name: str) -> uuid.UUID:
    """A demo network's, society's, point's or route's id, the same in every database: the
    demo's figures, and so its regional patterns, are then the same from one load to the
    next (``indicators.regional.store`` computes a pattern once for the same figures)."""
    return uuid.uuid5(_DEMO_NAMESPACE, f"{kind}:{name}")


def _load_network(spec: NetworkSpec, sign_ins: list[SignIn]) -> None:
    network, _ = Network.objects.update_or_create(
        slug=spec.slug,
        defaults={"name": spec.name},
        create_defaults={"id": demo_id("network", spec.slug), "name": spec.name},
    )
    today = timezone.now().date()
    for society_spec in spec.societies:
        fields = {
            "name": society_spec.name,
            "names": SOCIETY_NAMES.get(society_spec.country_code, {}),
            "network": network,
            "time_zone": society_spec.time_zone,
        }
        society, _ = NationalSociety.objects.update_or_create(
            country_code=society_spec.country_code,
            defaults=fields,
            create_defaults={"id": demo_id("society", society_spec.country_code), **fields},
        )
        first_point = None
        for point in society_spec.points:
            public = PUBLIC_TEXTS.get(point.code, PublicTexts(""))
            service_point, _ = ServicePoint.objects.get_or_create(
                code=point.code,
                defaults={
                    "id": demo_id("point", point.code),
                    "national_society": society,
                    "name": point.name,
                    "address": public.address,
                    "directions": public.directions,
                    "translations": public.translations,
                    "kind": point.kind,
                    "admin1_code": ADMIN1.get(point.code, ""),
                    "latitude": Decimal(str(point.latitude)),
                    "longitude": Decimal(str(point.longitude)),
                    "services": list(dict.fromkeys(point.services)),
                    "languages": list(point.languages),
                    "visibility": point.visibility,
                    "capacity": point.capacity,
                    "opening_hours": [
                        {"day": day, "opens": "08:00", "closes": "18:00"} for day in range(7)
                    ],
                    "last_verified": today - dt.timedelta(days=3),
                },
            )
            first_point = first_point or service_point
        prefix = society_spec.country_code.lower()
        # Each demo society answers on the web chat of its public pages.
        Channel.objects.get_or_create(
            slug=f"{prefix}-web",
            defaults={
                "national_society": society,
                "kind": ChannelKind.WEB,
                "emergency_number": EMERGENCY_NUMBERS.get(society_spec.country_code, ""),
            },
        )
        for suffix, role in SOCIETY_ROLES:
            user = _user(f"{prefix}-{suffix}")
            membership, _ = Membership.objects.get_or_create(
                user=user,
                defaults={
                    "role": role,
                    "national_society": society,
                    # The demo focal points also hold the protection, family-links and
                    # safeguarding roles.
                    "protection": role == Role.FOCAL_POINT,
                    "rfl_focal_point": role == Role.FOCAL_POINT,
                    "safeguarding": role == Role.FOCAL_POINT,
                },
            )
            if role == Role.COORDINATOR and first_point is not None:
                membership.service_points.add(first_point)
            sign_ins.append(SignIn(user.get_username(), role, society.name))
    regional = _user(f"{spec.slug}-regional")
    Membership.objects.get_or_create(
        user=regional, defaults={"role": Role.REGIONAL, "network": network}
    )
    sign_ins.append(SignIn(regional.get_username(), Role.REGIONAL, network.name))
    for route_spec in spec.routes:
        fields = {"name": route_spec.name, "network": network}
        route, _ = Route.objects.update_or_create(
            slug=route_spec.slug,
            defaults=fields,
            create_defaults={"id": demo_id("route", route_spec.slug), **fields},
        )
        for position, (code, hours) in enumerate(route_spec.stops):
            RouteStop.objects.update_or_create(
                route=route,
                position=position,
                defaults={
                    "service_point": ServicePoint.objects.get(code=code),
                    "hours_from_previous": Decimal(str(hours)),
                },
            )


def _volunteer_at(country_code: str, point_code: str) -> Actor:
    user = get_user_model().objects.get(username=f"{country_code.lower()}-volunteer")
    actor = build_actor(user, ServicePoint.objects.get(code=point_code).pk, via="command")
    if actor is None:
        raise RuntimeError(f"demo user {user} has no membership")
    return actor


class Journey(NamedTuple):
    country: str
    sex: str
    age_band: str
    nationality: str
    languages: list[str]
    # (service point code, services delivered, triage, follow-up for the next point)
    visits: list[tuple[str, list[tuple[str, int]], str, str]]
    health: dict[str, Any]


_JOURNEYS: list[tuple[Any, ...]] = [
    ("PA", "female", "18-59", "VE", ["es"], [
        ("pan-lajas-blancas", [("first-aid", 1), ("water", 2), ("food", 1)], "yellow",
         "Penicillin allergy: avoid amoxicillin; dressing on left foot, re-check in 48 h"),
    ], {"allergies": ["penicillin", "peanuts"]}),
    ("HN", "female", "18-59", "VE", ["es"], [
        ("hnd-las-manos", [("water", 2), ("first-aid", 1)], "yellow", "Check feet in 24 h"),
        ("hnd-danli", [("health-primary", 1), ("medicines", 1)], "green", ""),
    ], {"allergies": ["penicillin"], "conditions": ["asthma"],
        "medicines": [{"name": "salbutamol inhaler", "dose": "2 puffs when needed", "quantity": 1,
                       "days_supply": 30, "dispensed_on": None}]}),
    ("HN", "male", "5-11", "VE", ["es"], [
        ("hnd-las-manos", [("nfi", 1), ("food", 1)], "green", ""),
    ], {"child_growth": [{"measured_on": None, "weight_kg": 21.5, "height_cm": 121.0,
                          "muac_mm": 150}]}),
    ("HN", "female", "18-59", "HT", ["ht", "fr"], [
        ("hnd-danli", [("health-maternal-child", 1), ("dignity-kit", 1)], "yellow",
         "Pregnant 30 weeks: antenatal check at next point"),
        ("hnd-tegucigalpa", [("health-maternal-child", 1)], "green", ""),
    ], {"pregnancy": {"weeks": 30, "expected_date": None}}),
    ("MK", "male", "18-59", "AF", ["fa", "ps"], [
        ("mkd-gevgelija", [("first-aid", 1), ("connectivity", 1)], "green", ""),
        ("mkd-tabanovce", [("health-primary", 1), ("medicines", 10)], "red",
         "Insulin refill needed within 3 days"),
    ], {"conditions": ["type 1 diabetes"],
        "medicines": [{"name": "insulin glargine", "dose": "20 units nightly", "quantity": 1,
                       "days_supply": 3, "dispensed_on": None}]}),
    ("SV", "male", "18-59", "SV", ["es"], [
        ("slv-airport-returnees", [("information", 1), ("food", 1),
                                   ("psychosocial-support", 1)], "green", ""),
    ], {}),
    ("RS", "male", "12-17", "SY", ["ar"], [
        ("srb-belgrade", [("food", 1), ("rfl", 1), ("psychosocial-support", 1)], "yellow",
         "Unaccompanied minor: refer to protection at next point"),
    ], {}),
]  # fmt: skip
DEMO_JOURNEYS = [Journey(*journey) for journey in _JOURNEYS]


def _load_people() -> int:
    created = 0
    today = timezone.now().date()
    for country, sex, age_band, nationality, languages, visits, health in DEMO_JOURNEYS:
        first_actor = _volunteer_at(country, visits[0][0])
        if Person.objects.filter(
            national_society_id=first_actor.national_society_id,
            registered_by=first_actor.user,
        ).count() >= sum(1 for journey in DEMO_JOURNEYS if journey[0] == country):
            continue
        person = actions.register_person(
            first_actor, sex=sex, age_band=age_band, nationality=nationality,
            languages=languages, consent_language=languages[0],
            consents=["care", "share-network"],
            # Flights of returnees land at the San Salvador airport reception.
            population_group="returnee" if visits[0][0] == "slv-airport-returnees" else
            "on-the-move",
        )  # fmt: skip
        days_ago = len(visits)
        for point_code, services, triage, follow_up in visits:
            actor = _volunteer_at(country, point_code)
            actions.record_encounter(
                actor,
                person,
                services=services,
                triage=triage,
                occurred_at=timezone.now() - dt.timedelta(days=days_ago),
                follow_up=actions.FollowUpInput(follow_up, today + dt.timedelta(days=2), "priority")
                if follow_up
                else None,
            )
            days_ago -= 1
        last_actor = _volunteer_at(country, visits[-1][0])
        if health:
            for medicine in health.get("medicines", []):
                medicine["dispensed_on"] = today.isoformat()
            for row in health.get("child_growth", []):
                row["measured_on"] = today.isoformat()
            if "pregnancy" in health:
                health["pregnancy"]["expected_date"] = (today + dt.timedelta(weeks=10)).isoformat()
            actions.update_health_summary(first_actor, person, **health)
        # Each demo person carries a card from the last point they visited.
        issue_card(last_actor, person)
        created += 1
    return created


class ProductionDatabaseError(RuntimeError):
    """Demo users have a published password: never create them on a production server."""


def refuse_in_production() -> None:
    if settings.PRODUCTION:
        raise ProductionDatabaseError(
            "demo and synthetic data are refused when ROUTECARE_PRODUCTION is set"
        )


def load_demo() -> tuple[list[SignIn], int]:
    refuse_in_production()
    started = timezone.now()
    sign_ins: list[SignIn] = []
    with transaction.atomic():
        for spec in NETWORKS:
            _load_network(spec, sign_ins)
        for network in Network.objects.all():
            ensure_keys(network)
        _user("sysadmin", staff=True)
        Membership.objects.get_or_create(
            user=get_user_model().objects.get(username="sysadmin"),
            defaults={"role": Role.SYSADMIN},
        )
        sign_ins.append(SignIn("sysadmin", Role.SYSADMIN, "Django admin"))
        people = _load_people()
        load_flows()
        load_feedback()
        load_cash()
        # The dashboards show the demo at once, without waiting for the periodic job.
        refresh_since(started)
    return sign_ins, people
