"""The load test's data and the plan its locust users read.

Runs in a process whose ``DATABASE_URL`` is the load database: the bench's seeding (the demo
networks, then synthetic people up to ``people``), the indicator rollups over them, staff of
realistic roles with fresh API tokens, and care cards issued as staff issue them so card scans
read real QR texts, and a WhatsApp channel of one society (the helpdesk's webhook deliveries are
part of the mix; its secrets are the run's own, given to the servers by ``run``, never kept in the
database). Everything but the tokens is kept between runs, so only the first run pays for the
synthesis.

The plan holds raw API tokens of the load database's staff: it is written under ``.local/``
(git ignores it), readable by its owner only, and the tokens of the previous run are revoked.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from routecare.access import Actor, build_actor
from routecare.accounts.actions import create_api_token, revoke_api_token
from routecare.accounts.models import ApiToken
from routecare.bench.measure import prepare as seed_people
from routecare.cards.actions import issue_card
from routecare.cards.models import Card
from routecare.core.models import JobLock
from routecare.core.periodic import run_due
from routecare.demo.routes import EMERGENCY_NUMBERS, NETWORKS
from routecare.directory.selectors import public_points
from routecare.indicators import rollups
from routecare.indicators.bulk import rebuild_all
from routecare.indicators.models import PeopleRollup
from routecare.messaging.models import Channel, ChannelKind
from routecare.orgs.actions import create_staff_member
from routecare.orgs.models import Membership, NationalSociety, Role, ServicePoint
from routecare.people.models import ConsentPurpose, Person

Log = Callable[[str], None]

USER_PREFIX = "load-"
TOKEN_NAME = "load test"  # noqa: S105 - a name, not a secret
# Short codes per society handed to the locust users: plenty to look up, a small plan file.
CODES_PER_SOCIETY = 2000
# Valid cards per society to scan; topped up when a run finds fewer.
CARDS_PER_SOCIETY = 40
# Coordinators per society, each assigned to one of its first points.
COORDINATORS_PER_SOCIETY = 2
# Where staff record encounters: every kind of point but a partner organisation's.
RECORDING_KINDS = (
    ServicePoint.Kind.FIXED_HSP,
    ServicePoint.Kind.MOBILE_HSP,
    ServicePoint.Kind.BRANCH,
    ServicePoint.Kind.TRANSIT_CENTRE,
)
# The helpdesk in the mix: one society's WhatsApp number, written to in Spanish. Each person
# of the load test goes through the script: the language menu, Spanish, consent, then
# questions the directory answers (none hands the conversation to staff, which would silence
# the bot for the rest of it).
HELPDESK_COUNTRY = "HN"
HELPDESK_SLUG = "load-whatsapp"
HELPDESK_NUMBER_ID = "100000000000504"
HELPDESK_SCRIPT = (
    "hola",
    "2",
    "1",
    "necesito medicinas en Danlí",
    "agua en Danlí",
    "¿está abierto el punto de Danlí?",
)


def _quiet(message: str) -> None:
    """The default progress sink: say nothing."""


@dataclass(frozen=True)
class StaffToken:
    """One staff member's API token, bound to the point they work at (if any)."""

    username: str
    role: str
    country: str
    network: str
    point: str | None
    token: str


@dataclass(frozen=True)
class PublicCountry:
    """What a person on the move can ask about a country: its public points and services."""

    country: str
    points: list[str]
    services: list[str]


@dataclass
class Plan:
    service_point_staff: list[StaffToken] = field(default_factory=list)
    coordinators: list[StaffToken] = field(default_factory=list)
    regional: list[StaffToken] = field(default_factory=list)
    # Short codes of each society's people, by country code.
    codes: dict[str, list[str]] = field(default_factory=dict)
    # QR texts of valid cards, by the issuing society's country code.
    cards: dict[str, list[str]] = field(default_factory=dict)
    # Each society's network, by country code: staff scan the cards of their whole network.
    networks: dict[str, str] = field(default_factory=dict)
    public: list[PublicCountry] = field(default_factory=list)
    # The WhatsApp channel the platform users deliver to (``helpdesk_channel``), its number's id
    # and what each person writes; not its secrets.
    helpdesk: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)  # it holds API tokens
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")


def _societies() -> list[NationalSociety]:
    slugs = [spec.slug for spec in NETWORKS]
    return list(
        NationalSociety.objects.filter(network__slug__in=slugs)
        .select_related("network")
        .order_by("country_code")
    )


def _recording_points(society: NationalSociety) -> list[ServicePoint]:
    return list(
        ServicePoint.objects.filter(
            national_society=society,
            kind__in=RECORDING_KINDS,
            status=ServicePoint.Status.OPEN,
        ).order_by("code")
    )


def _focal_actor(society: NationalSociety) -> Actor:
    """The society's demo focal point, who adds the load test's staff."""
    user = get_user_model().objects.get(username=f"{society.country_code.lower()}-focal")
    actor = build_actor(user, None, via="command")
    if actor is None:
        raise RuntimeError(f"no focal point for {society.country_code}: load the demo first")
    return actor


def _staff_member(
    society: NationalSociety, username: str, role: str, point: ServicePoint | None
) -> User:
    """The load user ``username``, created by the society's focal point if missing."""
    user = get_user_model().objects.filter(username=username).first()
    if user is not None:
        return user
    # Nobody signs in with it: the load test uses API tokens only.
    password = secrets.token_urlsafe(24)
    membership = create_staff_member(
        _focal_actor(society),
        username=username,
        password=password,
        role=role,
        service_points=[point] if point else [],
    )
    return membership.user


def _fresh_token(user: User, point: ServicePoint | None) -> str:
    """A new token for this run; the previous runs' ones are revoked."""
    for old in ApiToken.objects.filter(user=user, name=TOKEN_NAME, revoked_at__isnull=True):
        revoke_api_token(old)
    _token, raw = create_api_token(user, TOKEN_NAME, point)
    return raw


def _staff(societies: Iterable[NationalSociety]) -> Plan:
    plan = Plan()
    for society in societies:
        country, network = society.country_code, society.network.slug
        points = _recording_points(society)
        for point in points:
            user = _staff_member(
                society, f"{USER_PREFIX}{point.code}-volunteer", Role.VOLUNTEER, point
            )
            plan.service_point_staff.append(
                StaffToken(user.username, Role.VOLUNTEER, country, network, point.code,
                           _fresh_token(user, point))
            )  # fmt: skip
        for number, point in enumerate(points[:COORDINATORS_PER_SOCIETY], start=1):
            name = f"{USER_PREFIX}{country.lower()}-coordinator-{number}"
            user = _staff_member(society, name, Role.COORDINATOR, point)
            plan.coordinators.append(
                StaffToken(name, Role.COORDINATOR, country, network, point.code,
                           _fresh_token(user, point))
            )  # fmt: skip
        name = f"{USER_PREFIX}{country.lower()}-focal"
        user = _staff_member(society, name, Role.FOCAL_POINT, None)
        plan.coordinators.append(
            StaffToken(name, Role.FOCAL_POINT, country, network, None, _fresh_token(user, None))
        )
    for spec in NETWORKS:
        # The demo's IFRC regional staff: aggregates of the whole network, no records.
        user = get_user_model().objects.get(username=f"{spec.slug}-regional")
        plan.regional.append(
            StaffToken(user.username, Role.REGIONAL, "", spec.slug, None, _fresh_token(user, None))
        )
    return plan


def _codes(society: NationalSociety, rng: random.Random) -> list[str]:
    codes = list(
        Person.objects.filter(
            national_society=society,
            consents__purpose=ConsentPurpose.CARE,
            consents__withdrawn_at__isnull=True,
        )
        .order_by("short_code")
        .values_list("short_code", flat=True)
        .distinct()
    )
    return rng.sample(codes, min(CODES_PER_SOCIETY, len(codes)))


def _valid_cards(society: NationalSociety) -> list[Card]:
    return list(Card.objects.filter(national_society=society, ended_at__isnull=True))


def _top_up_cards(society: NationalSociety, codes: list[str], log: Log) -> int:
    """Issue cards until the society has ``CARDS_PER_SOCIETY`` valid ones; how many issued."""
    missing = CARDS_PER_SOCIETY - len(_valid_cards(society))
    points = _recording_points(society)
    if missing <= 0 or not points:
        return 0
    user = get_user_model().objects.get(username=f"{USER_PREFIX}{points[0].code}-volunteer")
    actor = build_actor(user, points[0].pk, via="command")
    if actor is None:
        raise RuntimeError(f"{user.username} cannot work at {points[0].code}")
    carrying = set(
        Card.objects.filter(national_society=society, ended_at__isnull=True).values_list(
            "person__short_code", flat=True
        )
    )
    people = Person.objects.filter(
        national_society=society, short_code__in=[c for c in codes if c not in carrying]
    )
    issued = 0
    for person in people[:missing]:
        issue_card(actor, person)
        issued += 1
    if issued:
        log(f"issued {issued} cards in {society.country_code}")
    return issued


def _public(societies: Iterable[NationalSociety]) -> list[PublicCountry]:
    countries = []
    for society in societies:
        points = list(public_points(society.country_code))
        if not points:
            continue
        services = sorted({service for point in points for service in point.services})
        # The country's page lists its onward points too when its society chose so.
        codes = [point.code for point in points]
        countries.append(PublicCountry(society.country_code, codes, services))
    return countries


def helpdesk_channel() -> Channel:
    """The load test's WhatsApp channel, made once (kept as it is on later runs). Its secrets
    are not here: ``run`` gives the servers secrets of the run's own by the channel's slug."""
    society = NationalSociety.objects.get(country_code=HELPDESK_COUNTRY, network__slug__in=[
        spec.slug for spec in NETWORKS
    ])  # fmt: skip
    channel, _created = Channel.objects.get_or_create(
        slug=HELPDESK_SLUG,
        defaults={
            "national_society": society,
            "kind": ChannelKind.WHATSAPP,
            "platform_id": HELPDESK_NUMBER_ID,
            "emergency_number": EMERGENCY_NUMBERS.get(HELPDESK_COUNTRY, ""),
        },
    )
    return channel


def migrate() -> float:
    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    return round(time.perf_counter() - started, 2)


def prepare_plan(people: int, seed: int = 7, log: Log = _quiet) -> Plan:
    """Seed the current (migrated) database and build the plan."""
    started = time.perf_counter()
    dataset = seed_people(people, seed=seed, log=log)
    rollups_seconds = None
    if dataset.people_added or not PeopleRollup.objects.exists():
        log("rebuilding the indicator rollups")
        began = time.perf_counter()
        rebuild_all()
        rollups_seconds = round(time.perf_counter() - began, 2)
    rng = random.Random(seed)
    societies = _societies()
    with transaction.atomic():
        plan = _staff(societies)
    issued = 0
    for society in societies:
        plan.codes[society.country_code] = _codes(society, rng)
        issued += _top_up_cards(society, plan.codes[society.country_code], log)
    for society in societies:
        plan.cards[society.country_code] = [str(c.qr_text) for c in _valid_cards(society)]
        plan.networks[society.country_code] = society.network.slug
    plan.public = _public(societies)
    channel = helpdesk_channel()
    plan.helpdesk = {
        "slug": channel.slug,
        "phone_number_id": channel.platform_id,
        "country": HELPDESK_COUNTRY,
        "script": list(HELPDESK_SCRIPT),
    }
    # The people the refresh keeps (indicators.seen) for the weeks and months the run's
    # encounters feed, built in the base: else the run's first refresh recomputes those rollups
    # from their encounters under the load (a base built before they were kept has none).
    began = time.perf_counter()
    today = timezone.now().date()  # rollup days are UTC days
    rollups.rebuild([(point, today) for s in societies for point in _recording_points(s)])
    seen_seconds = round(time.perf_counter() - began, 2)
    # The periodic jobs catch up now (the rollups of the last run's encounters, then the
    # regional dashboards' years protected over them and kept: indicators.regional), not in the
    # first seconds of the measurement. The last run stopped its worker with a signal, maybe
    # mid-job, which leaves that job's lock held for minutes: nothing else runs on this
    # database now, so the locks are let go first.
    began = time.perf_counter()
    JobLock.objects.update(held_until=timezone.now())
    run_due()
    periodic_seconds = round(time.perf_counter() - began, 2)
    plan.data = {
        "people": dataset.people,
        "encounters": dataset.encounters,
        "people_added": dataset.people_added,
        "national_societies": len(societies),
        "service_points": ServicePoint.objects.filter(national_society__in=societies).count(),
        "valid_cards": sum(len(texts) for texts in plan.cards.values()),
        "cards_issued": issued,
        "staff_tokens": {
            "service_point_staff": len(plan.service_point_staff),
            "coordinators_and_focal_points": len(plan.coordinators),
            "regional": len(plan.regional),
        },
        "staff_memberships": Membership.objects.filter(
            user__username__startswith=USER_PREFIX
        ).count(),
        "synth_seconds": dataset.synth_seconds,
        "rollup_rebuild_seconds": rollups_seconds,
        "periodic_catch_up_seconds": periodic_seconds,
        "people_seen_seconds": seen_seconds,
        "prepare_seconds": round(time.perf_counter() - started, 2),
    }
    return plan
