"""Indicator figures: the regional dashboard over millions of encounters.

The data is a bench-only network (created once and kept, made again when it is incomplete or
of another size): 8 National Societies of 12 points each, on two routes, with one person for
every five encounters. The encounters fall over the year 2025, each person's at points of
their own society; one in 500 is corrected by a later one, a third include primary health
care. They are written by the database itself (``generate_series`` on PostgreSQL, a
recursive query on SQLite), ten million take minutes instead of hours through the ORM; the
rollups are then built in bulk (``indicators.bulk``), and that time is reported too.

Ids are made from the row number (``kind`` in the high half), so a person's encounters can
be written without reading the people back. Synthetic people have no alias; their
vulnerabilities are one encrypted empty list, encrypted once.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from routecare.accounts.actions import create_api_token
from routecare.bench.stats import summarise
from routecare.indicators import bulk, rollups
from routecare.indicators.models import PeopleRollup, PeopleSeen, SeenPeriod, ServiceRollup
from routecare.orgs.models import (
    Membership,
    NationalSociety,
    Network,
    Role,
    Route,
    RouteStop,
    ServicePoint,
)
from routecare.people.models import Encounter, EncounterService, Person

Log = Callable[[str], None]

NETWORK = "bench-indicators"
REGIONAL_USER = "bench-indicators-regional"
COUNTRIES = ("XG", "XH", "XJ", "XM", "XN", "XP", "XQ", "XR")  # not real countries
POINTS_PER_SOCIETY = 12
ENCOUNTERS_PER_PERSON = 5
CORRECTED_EVERY = 500
YEAR_START = "2025-01-01 00:00:00"
YEAR_SECONDS = 365 * 86400
PERSON_KIND, ENCOUNTER_KIND, CORRECTION_KIND = 0x7B1C_0001, 0x7B1C_0002, 0x7B1C_0003
STEP = 7919  # spreads consecutive encounters over the year
PERSON_STEP = 1_000_003  # a prime: consecutive encounters go to different people, each 5 times
BATCH = 1_000_000
# The dashboards timed: (label, query string); route and society are filled in.
VARIANTS = (
    ("year-by-month", "granularity=month&start=2025-01-01&end=2025-12-31"),
    ("quarter-by-week", "granularity=week&start=2025-10-01&end=2025-12-31"),
    ("month-by-day", "granularity=day&start=2025-12-01&end=2025-12-31"),
    ("route-year", "granularity=month&start=2025-01-01&end=2025-12-31&route={route}"),
    (
        "society-women-year",
        "granularity=month&start=2025-01-01&end=2025-12-31&society={society}&sex=female",
    ),
)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _uuid(kind: int, number: str) -> str:
    """SQL for the id of row ``number`` of a kind: 16 hex digits of each."""
    if _postgres():
        return f"(lpad(to_hex({kind}::bigint), 16, '0') || lpad(to_hex({number}), 16, '0'))::uuid"
    return f"printf('%016x%016x', {kind}, {number})"


def _moment(seconds: str) -> str:
    if _postgres():
        return f"(TIMESTAMPTZ '{YEAR_START}+00' + ({seconds}) * INTERVAL '1 second')"
    return f"datetime('{YEAR_START}', '+' || ({seconds}) || ' seconds')"


def _numbers(first: int, last: int) -> tuple[str, str]:
    """A WITH clause (SQLite) and a FROM item ``g(n)`` numbering ``first`` to ``last``."""
    if _postgres():
        return "", f"generate_series({first}::bigint, {last}::bigint) AS g(n)"
    return (
        f"WITH RECURSIVE g(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM g WHERE n < {last})",  # noqa: S608
        "g",
    )


def _code(society: str, point: str) -> str:
    return f"('ind-' || ({society}) || '-' || ({point}))"


def _execute(sql: str, params: list[Any] | None = None) -> None:
    """Run a statement; with parameters, the modulo operators are escaped from them."""
    with connection.cursor() as cursor:
        if params:
            cursor.execute(sql.replace("%", "%%").replace("%%s", "%s"), params)
        else:
            cursor.execute(sql)


@transaction.atomic
def _ensure_places() -> tuple[list[NationalSociety], list[Route]]:
    network, _ = Network.objects.get_or_create(slug=NETWORK, defaults={"name": "Bench indicators"})
    societies = []
    kinds = [ServicePoint.Kind.FIXED_HSP] * 8 + [ServicePoint.Kind.MOBILE_HSP] * 2
    kinds += [ServicePoint.Kind.BRANCH, ServicePoint.Kind.PARTNER]
    for s, country in enumerate(COUNTRIES):
        society, _ = NationalSociety.objects.get_or_create(
            country_code=country,
            defaults={"name": f"Bench {country} Red Cross", "network": network},
        )
        societies.append(society)
        for k in range(POINTS_PER_SOCIETY):
            ServicePoint.objects.get_or_create(
                code=f"ind-{s}-{k}",
                defaults={
                    "national_society": society,
                    "name": f"Indicators point {s}-{k}",
                    "kind": kinds[k],
                    "latitude": Decimal(8) + Decimal(s),
                    "longitude": Decimal(-80) + Decimal(k) / 4,
                },
            )
    routes = []
    for name, points in (("north", range(0, 6)), ("south", range(4, 10))):
        route, created = Route.objects.get_or_create(
            slug=f"bench-ind-{name}", defaults={"name": f"Bench {name}", "network": network}
        )
        routes.append(route)
        if created:
            stops = [
                ServicePoint.objects.get(code=f"ind-{s}-{k}")
                for s in range(len(COUNTRIES))
                for k in points
            ]
            RouteStop.objects.bulk_create(
                RouteStop(route=route, position=n, service_point=point, hours_from_previous=2)
                for n, point in enumerate(stops)
            )
    user, _ = get_user_model().objects.get_or_create(username=REGIONAL_USER)
    Membership.objects.get_or_create(
        user=user, defaults={"role": Role.REGIONAL, "network": network}
    )
    return societies, routes


def _wipe(societies: list[NationalSociety]) -> None:
    """Remove the bench network's people, encounters and rollups (in SQL: encounters refuse
    the ORM's delete)."""
    ids = [s.pk for s in societies]
    placeholders = ", ".join(["%s"] * len(ids))
    people = f"SELECT id FROM people_person WHERE national_society_id IN ({placeholders})"  # noqa: S608
    values = [_db_uuid(pk) for pk in ids]
    with transaction.atomic():
        _execute(
            "DELETE FROM people_encounterservice WHERE encounter_id IN "  # noqa: S608
            f"(SELECT id FROM people_encounter WHERE person_id IN ({people}))",
            values,
        )
        _execute(f"DELETE FROM people_encounter WHERE person_id IN ({people})", values)  # noqa: S608
        _execute(f"DELETE FROM people_person WHERE id IN ({people})", values)  # noqa: S608
        PeopleRollup.objects.filter(national_society_id__in=ids).delete()


def _db_uuid(value: Any) -> Any:
    return Person._meta.get_field("id").get_db_prep_value(value, connection)


def _people(count: int, log: Log) -> None:
    societies = len(COUNTRIES)
    empty = Person._meta.get_field("vulnerabilities").get_db_prep_value([], connection)
    languages = "'[]'::jsonb" if _postgres() else "'[]'"
    for first in range(1, count + 1, BATCH):
        last = min(count, first + BATCH - 1)
        with_clause, numbers = _numbers(first, last)
        _execute(
            f"""{with_clause}
            INSERT INTO people_person (id, national_society_id, short_code, alias, sex,
                birth_year, age_band, nationality, languages, population_group, travel_group,
                household_id, vulnerabilities, registered_at_point_id, registered_by_id,
                created_at)
            SELECT {_uuid(PERSON_KIND, "n")}, sp.national_society_id, 'I' || n, NULL,
                CASE n % 5 WHEN 0 THEN 'male' WHEN 1 THEN 'female' WHEN 2 THEN 'male'
                    WHEN 3 THEN 'female' ELSE 'undisclosed' END,
                NULL,
                CASE (n / 7) % 5 WHEN 0 THEN '0-4' WHEN 1 THEN '5-11' WHEN 2 THEN '12-17'
                    WHEN 3 THEN '18-59' ELSE '60+' END,
                '', {languages},
                CASE n % 10 WHEN 8 THEN 'returnee' WHEN 9 THEN 'host-community'
                    ELSE 'on-the-move' END,
                'alone', NULL, %s, sp.id, NULL, {_moment("0")}
            FROM {numbers}
            JOIN orgs_servicepoint sp
                ON sp.code = {_code(f"n % {societies}", f"(n / {societies}) % 12")}
            """,  # noqa: S608
            [empty],
        )
        log(f"indicators: {last:,} of {count:,} people")


def _encounter_select(kind: int, number: str, encounter: str, people: int) -> str:
    """The columns of an encounter whose person, point and moment follow from ``encounter``
    (the number of the encounter it is or corrects)."""
    societies = len(COUNTRIES)
    person = f"(({encounter}) * {PERSON_STEP}) % {people} + 1"
    return f"""{_uuid(kind, number)} AS id, {_uuid(PERSON_KIND, person)} AS person_id,
        {_code(f"({person}) % {societies}", f"(({person}) / {societies} + ({encounter})) % 12")}
            AS point_code,
        {_moment(f"(({encounter}) * {STEP}) % {YEAR_SECONDS}")} AS occurred_at"""


def _encounters(count: int, people: int, log: Log) -> None:
    columns = (
        "id, person_id, service_point_id, recorded_by_id, occurred_at, recorded_at, triage, "
        "notes, corrects_id"
    )
    for first in range(1, count + 1, BATCH):
        last = min(count, first + BATCH - 1)
        with_clause, numbers = _numbers(first, last)
        with transaction.atomic():
            _execute(
                f"""{with_clause}
                INSERT INTO people_encounter ({columns})
                SELECT e.id, e.person_id, sp.id, NULL, e.occurred_at, e.occurred_at,
                    CASE n % 3 WHEN 0 THEN 'green' ELSE '' END, NULL, NULL
                FROM (SELECT n, {_encounter_select(ENCOUNTER_KIND, "n", "n", people)}
                      FROM {numbers}) e
                JOIN orgs_servicepoint sp ON sp.code = e.point_code
                """  # noqa: S608
            )
            _execute(
                f"""{with_clause}
                INSERT INTO people_encounterservice (encounter_id, service, quantity)
                SELECT {_uuid(ENCOUNTER_KIND, "n")},
                    CASE n % 4 WHEN 0 THEN 'water' WHEN 1 THEN 'food' WHEN 2 THEN 'information'
                        ELSE 'first-aid' END, 1 + n % 3
                FROM {numbers}
                UNION ALL
                SELECT {_uuid(ENCOUNTER_KIND, "n")}, 'health-primary', 1
                FROM {numbers} WHERE n % 3 = 0
                """  # noqa: S608
            )
        log(f"indicators: {last:,} of {count:,} encounters")
    corrections = count // CORRECTED_EVERY
    if not corrections:
        return
    with_clause, numbers = _numbers(1, corrections)
    later = "INTERVAL '1 hour'" if _postgres() else None
    recorded = f"e.occurred_at + {later}" if later else "datetime(e.occurred_at, '+1 hours')"
    encounter = f"n * {CORRECTED_EVERY}"
    with transaction.atomic():
        _execute(
            f"""{with_clause}
            INSERT INTO people_encounter ({columns})
            SELECT e.id, e.person_id, sp.id, NULL, e.occurred_at, {recorded}, '', NULL,
                {_uuid(ENCOUNTER_KIND, encounter)}
            FROM (SELECT n, {_encounter_select(CORRECTION_KIND, "n", encounter, people)}
                  FROM {numbers}) e
            JOIN orgs_servicepoint sp ON sp.code = e.point_code
            """  # noqa: S608
        )
        _execute(
            f"""{with_clause}
            INSERT INTO people_encounterservice (encounter_id, service, quantity)
            SELECT {_uuid(CORRECTION_KIND, "n")}, 'water', 1 FROM {numbers}
            """  # noqa: S608
        )


def expected_encounters(encounters: int) -> int:
    return encounters + encounters // CORRECTED_EVERY


def ensure_indicator_data(encounters: int, log: Log) -> dict[str, Any]:
    """The bench network with ``encounters`` encounters (plus their corrections) and its
    rollups; made again when it holds another number. What it took, in seconds."""
    societies, routes = _ensure_places()
    people = max(1, encounters // ENCOUNTERS_PER_PERSON)
    points = ServicePoint.objects.filter(national_society__in=societies)
    present = Encounter.objects.filter(service_point__in=points).count()
    built = PeopleRollup.objects.filter(national_society__in=societies).exists()
    timings: dict[str, Any] = {"generate_seconds": None, "rollup_rebuild_seconds": None}
    if present != expected_encounters(encounters):
        log(f"indicators: {present:,} encounters present; writing {encounters:,} anew")
        began = time.perf_counter()
        _wipe(societies)
        _people(people, log)
        _encounters(encounters, people, log)
        timings["generate_seconds"] = round(time.perf_counter() - began, 1)
        built = False
        if _postgres():
            _execute("ANALYZE people_person, people_encounter, people_encounterservice")
    if not built:
        log("indicators: building the rollups in bulk")
        began = time.perf_counter()
        written = bulk.rebuild_societies(societies)
        timings["rollup_rebuild_seconds"] = round(time.perf_counter() - began, 1)
        timings["rollup_rows"] = written
        if _postgres():
            _execute("ANALYZE indicators_peoplerollup, indicators_servicerollup")
    return {"societies": societies, "routes": routes, "people": people, **timings}


def measure_indicators(encounters: int, repeats: int = 10, log: Log = print) -> dict[str, Any]:
    """The regional dashboard page as the network's regional staff open it, in five views,
    ``repeats`` times each after one warm-up."""
    data = ensure_indicator_data(encounters, log)
    client = Client()
    user = get_user_model().objects.get(username=REGIONAL_USER)
    client.force_login(user)
    route, society = data["routes"][0], data["societies"][0]
    timings: dict[str, list[float]] = {}
    for label, query in VARIANTS:
        url = "/indicators/?" + query.format(route=route.pk, society=society.pk)
        for index in range(repeats + 1):
            began = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            if index:
                timings.setdefault(label, []).append(elapsed)
    _token, raw = create_api_token(user, "bench indicators", None)
    api = Client(headers={"Authorization": f"Bearer {raw}"}).get(
        "/api/v1/indicators?granularity=month&start=2025-01-01&end=2025-12-31"
    )
    if api.status_code != 200:
        raise RuntimeError(f"the indicators API answered {api.status_code}")
    figures = {f["code"]: f["value"] for f in api.json()["figures"]}
    everything = [ms for values in timings.values() for ms in values]
    return {
        "encounters": expected_encounters(encounters),
        "people": data["people"],
        "societies": len(data["societies"]),
        "points": len(data["societies"]) * POINTS_PER_SOCIETY,
        "generate_seconds": data["generate_seconds"],
        "rollup_rebuild_seconds": data["rollup_rebuild_seconds"],
        "regional_dashboard_ms": summarise(everything),
        "regional_dashboard_p95_ms_by_view": {
            label: summarise(values)["p95"] for label, values in timings.items()
        },
        # Every synthetic person is seen in 2025, once per society: the dashboard must say so.
        "people_supported": figures.get("people-supported"),
    }


# The month rollup refresh on day 3 and day 28 of a synthetic month, with the same new
# encounters: a refresh that costs what its new encounters cost, not what the month holds.
REFRESH_NETWORK = "bench-rollups"
REFRESH_COUNTRY = "XT"  # not a real country
REFRESH_MONTH = dt.date(2025, 5, 1)  # day 3 and day 28 start no week
REFRESH_DAYS = (3, 28)
REFRESH_POOL = 6000  # people who come and come back over the month
REFRESH_PER_DAY = 1500  # encounters a day, over 12 points
REFRESH_REPEATS = 5
REFRESH_RATIO_MAX = 1.2


class UndoError(Exception):
    """Raised to roll a measured refresh back."""


@transaction.atomic
def _refresh_places() -> tuple[NationalSociety, list[ServicePoint]]:
    network, _ = Network.objects.get_or_create(
        slug=REFRESH_NETWORK, defaults={"name": "Bench rollups"}
    )
    society, _ = NationalSociety.objects.get_or_create(
        country_code=REFRESH_COUNTRY,
        defaults={"name": f"Bench {REFRESH_COUNTRY} Red Cross", "network": network},
    )
    kinds = [ServicePoint.Kind.FIXED_HSP] * 8 + [ServicePoint.Kind.MOBILE_HSP] * 2
    kinds += [ServicePoint.Kind.BRANCH, ServicePoint.Kind.PARTNER]
    points = [
        ServicePoint.objects.get_or_create(
            code=f"rollups-{k}",
            defaults={
                "national_society": society,
                "name": f"Rollups point {k}",
                "kind": kinds[k],
                "latitude": Decimal(9),
                "longitude": Decimal(-79) + Decimal(k) / 4,
            },
        )[0]
        for k in range(POINTS_PER_SOCIETY)
    ]
    route, created = Route.objects.get_or_create(
        slug="bench-rollups", defaults={"name": "Bench rollups", "network": network}
    )
    if created:
        RouteStop.objects.bulk_create(
            RouteStop(route=route, position=n, service_point=point, hours_from_previous=2)
            for n, point in enumerate(points[:6])
        )
    return society, points


def _wipe_refresh(society: NationalSociety) -> None:
    values = [_db_uuid(society.pk)]
    people = "SELECT id FROM people_person WHERE national_society_id = %s"
    with transaction.atomic():
        PeopleSeen.objects.filter(national_society=society).delete()
        SeenPeriod.objects.filter(national_society=society).delete()
        PeopleRollup.objects.filter(national_society=society).delete()
        ServiceRollup.objects.filter(national_society=society).delete()
        _execute(
            "DELETE FROM people_encounterservice WHERE encounter_id IN "  # noqa: S608
            f"(SELECT id FROM people_encounter WHERE person_id IN ({people}))",
            values,
        )
        _execute(f"DELETE FROM people_encounter WHERE person_id IN ({people})", values)  # noqa: S608
        _execute(f"DELETE FROM people_person WHERE id IN ({people})", values)  # noqa: S608


def _refresh_people(
    society: NationalSociety, points: list[ServicePoint], pool: int
) -> list[uuid.UUID]:
    rng = random.Random(11)
    empty: list[str] = []
    people = [
        Person(
            national_society=society,
            short_code=f"R{n}",
            sex=rng.choice(["female", "male", "undisclosed"]),
            age_band=rng.choice(["0-4", "5-11", "12-17", "18-59", "60+"]),
            population_group=rng.choice(["on-the-move", "returnee", "host-community"]),
            vulnerabilities=empty,
            registered_at_point=points[n % len(points)],
            created_at=_aware_day(REFRESH_MONTH),
        )
        for n in range(pool)
    ]
    Person.objects.bulk_create(people, batch_size=1000)
    return [person.pk for person in people]


def _aware_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _day_of_encounters(
    day: dt.date,
    people: list[uuid.UUID],
    points: list[ServicePoint],
    recorded: dt.datetime | None,
    per_day: int,
) -> None:
    """A day's encounters, the same for a given day: people drawn from the pool (many come
    back), a third with primary health care. ``recorded``: when (the day itself if None)."""
    rng = random.Random(day.toordinal())
    encounters = []
    for n in range(per_day):
        moment = _aware_day(day) + dt.timedelta(seconds=rng.randrange(86400))
        encounters.append(
            Encounter(
                person_id=rng.choice(people),
                service_point=points[n % len(points)],
                occurred_at=moment,
                recorded_at=recorded or moment,
            )
        )
    Encounter.objects.bulk_create(encounters, batch_size=1000)
    EncounterService.objects.bulk_create(
        (
            EncounterService(
                encounter=encounter,
                service="health-primary" if n % 3 == 0 else "water",
                quantity=1,
            )
            for n, encounter in enumerate(encounters)
        ),
        batch_size=1000,
    )


def _analyze() -> None:
    """The planner's statistics of the tables a refresh reads, as autovacuum keeps them
    through a real month: the synthetic month is written in seconds, and a plan chosen on
    statistics of an empty table read every row of a period (PostgreSQL; 1.0 s against 0.3 s
    for the same statement, on day 3 or day 28 depending on when autovacuum passed)."""
    if connection.vendor != "postgresql":
        return
    tables = (PeopleSeen, PeopleRollup, SeenPeriod, Encounter, EncounterService)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(model._meta.db_table for model in tables))


def _refresh_once(
    day: dt.date, people: list[uuid.UUID], points: list[ServicePoint], per_day: int
) -> tuple[float, float]:
    """Record the day's encounters and time the refresh that counts them, then undo both:
    its time and this process's CPU time (all of it on SQLite; PostgreSQL's server works
    in a process of its own), in milliseconds."""
    elapsed = cpu = 0.0
    try:
        with transaction.atomic():
            recorded = timezone.now()
            _day_of_encounters(day, people, points, recorded, per_day)
            began, began_cpu = time.perf_counter(), time.process_time()
            rollups.refresh_since(recorded - dt.timedelta(seconds=1))
            elapsed = (time.perf_counter() - began) * 1000
            cpu = (time.process_time() - began_cpu) * 1000
            raise UndoError
    except UndoError:
        pass
    return elapsed, cpu


def measure_rollup_refresh(
    log: Log = print,
    per_day: int = REFRESH_PER_DAY,
    pool: int = REFRESH_POOL,
    repeats: int = REFRESH_REPEATS,
) -> dict[str, Any]:
    """The refresh of a day's encounters on day 3 and day 28 of a synthetic month (the month
    before held as many encounters each day, refreshed day by day), the median of
    ``repeats`` each; every encounter is removed again after."""
    society, points = _refresh_places()
    _wipe_refresh(society)
    people = _refresh_people(society, points, pool)
    # What is waiting from the rest of the run is refreshed first, outside the timing.
    while rollups.refresh_since(timezone.now()) != "nothing to refresh":
        pass
    figures: dict[str, Any] = {}
    loaded = 0
    for day_number in REFRESH_DAYS:
        day = REFRESH_MONTH.replace(day=day_number)
        for earlier in range(loaded + 1, day_number):
            _day_of_encounters(REFRESH_MONTH.replace(day=earlier), people, points, None, per_day)
            rollups.rebuild((point, REFRESH_MONTH.replace(day=earlier)) for point in points)
        loaded = day_number - 1
        _analyze()
        log(f"indicators: refresh of {per_day:,} encounters on day {day_number}")
        _refresh_once(day, people, points, per_day)  # warm-up
        runs = [_refresh_once(day, people, points, per_day) for _ in range(repeats)]
        times, cpu = sorted(run[0] for run in runs), sorted(run[1] for run in runs)
        figures[f"rollup_refresh_day{day_number}_ms"] = round(times[len(times) // 2], 1)
        figures[f"rollup_refresh_day{day_number}_cpu_ms"] = round(cpu[len(cpu) // 2], 1)
        figures[f"rollup_refresh_day{day_number}_runs_ms"] = [round(t, 1) for t in times]
    _wipe_refresh(society)
    first, last = (figures[f"rollup_refresh_day{n}_ms"] for n in REFRESH_DAYS)
    first_cpu, last_cpu = (figures[f"rollup_refresh_day{n}_cpu_ms"] for n in REFRESH_DAYS)
    ratio = round(last / first, 2) if first else None
    return {
        "rollup_refresh": {
            "encounters_per_day": per_day,
            "people": pool,
            "points": len(points),
            **figures,
            # This process's CPU only: the whole refresh on SQLite, not the server's share
            # on PostgreSQL. Steadier than the time on a shared machine.
            "cpu_day28_over_day3": round(last_cpu / first_cpu, 2) if first_cpu else None,
        },
        # The medians of the refresh's time (the target's figure).
        "rollup_refresh_day28_over_day3": ratio,
        "rollup_refresh_ratio_max": REFRESH_RATIO_MAX,
        "rollup_refresh_meets_target": ratio is not None and ratio <= REFRESH_RATIO_MAX,
    }
