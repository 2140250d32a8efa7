"""Regional years protected ahead and kept (``regional.store``): what is kept reads back as
computed, the dashboards show one moment's figures with that moment's pattern, and a change
makes the year stale until the job (or, past the lag, the request) computes it again."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from routecare.conftest import Society, register
from routecare.core import caching
from routecare.core.models import JobLock
from routecare.indicators import rollups
from routecare.indicators.models import Granularity, RegionalBlock, RegionalYear, Training
from routecare.indicators.regional import block_of, store, system
from routecare.indicators.regional.system import protect_unit
from routecare.indicators.rollups import CACHE_KIND
from routecare.indicators.selectors import network_view
from routecare.orgs.models import ServicePoint
from routecare.people import actions as people_actions


def _supported(society: Society, people: int, sex: str = "female") -> None:
    for _ in range(people):
        person = register(society, sex=sex)
        people_actions.record_encounter(society.actor(), person, services=[("water", 1)])


@pytest.fixture
def activity(own: Society, other: Society) -> None:
    _supported(own, 12)
    _supported(own, 3, sex="male")  # small: the year's pattern hides cells
    _supported(other, 7)
    rollups.refresh()


def _people(client: Client) -> Any:
    answer = client.get("/api/v1/indicators?granularity=month").json()
    return {f["code"]: f["value"] for f in answer["figures"]}["people-supported"]


def test_a_kept_block_reads_back_as_computed(activity: None, own: Society) -> None:
    view = network_view(own.society.network_id)
    assert view is not None
    year = timezone.localdate().year
    computed = protect_unit(view, year)
    assert any(p.hidden for p in computed.values())  # the small cells' pattern is kept too
    for (granularity, first), protected in computed.items():
        payload = store.pack(protected)
        json.loads(zlib.decompress(payload))  # JSON, nothing pickled
        kept = store.unpack(block_of(first, granularity), payload)
        data = protected.cells.data
        assert kept.data.people == data.people
        assert kept.data.patterns == data.patterns
        assert kept.data.services == data.services
        assert kept.data.trained == data.trained
        assert kept.data.referrals == data.referrals
        assert dict(kept.data.active) == dict(data.active)
        assert kept.hidden == protected.hidden
        assert kept.open == protected.open


def test_a_stale_year_is_shown_as_it_was_until_the_job_computes_it(
    activity: None,
    own: Society,
    regional: User,
    api: Callable[..., Client],
    web: Callable[..., Client],
    settings: Any,
) -> None:
    settings.REGIONAL_PATTERN_LAG = 900
    client = api(regional)
    assert _people(client) == 22
    entry = RegionalYear.objects.get(year=timezone.localdate().year)
    assert not entry.stale
    assert RegionalBlock.objects.filter(year=entry).count() == 17
    _supported(own, 5)
    rollups.refresh()
    entry.refresh_from_db()
    assert entry.stale  # the rollups' rebuild marked it
    # Shown as computed: the old figures with their own pattern, never new ones with old.
    assert _people(client) == 22
    page = web(regional).get("/indicators/").content.decode()
    moment = timezone.localtime(entry.computed_at).strftime("%Y-%m-%d %H:%M")
    assert f"Figures as of {moment}" in page
    assert store.refresh_all() == f"computed: {own.society.network.slug} {entry.year}"
    assert _people(client) == 27
    assert store.refresh_all() == "nothing to compute"


def test_past_the_lag_the_request_computes_the_year_itself(
    activity: None, own: Society, regional: User, api: Callable[..., Client], settings: Any
) -> None:
    settings.REGIONAL_PATTERN_LAG = 900
    client = api(regional)
    assert _people(client) == 22
    # Computed long ago, stale only since now: shown as kept (the job is due to compute it).
    RegionalYear.objects.update(computed_at=timezone.now() - dt.timedelta(days=3))
    _supported(own, 5)
    rollups.refresh()
    assert _people(client) == 22
    # Stale for longer than the lag while the job computes it: still shown as kept, no
    # server process computes it a second time.
    RegionalYear.objects.update(stale_since=timezone.now() - dt.timedelta(seconds=901))
    JobLock.objects.create(name=store.JOB, held_until=timezone.now() + dt.timedelta(minutes=5))
    assert _people(client) == 22
    # No job running (no worker): the next request past the dashboards' cache computes it.
    JobLock.objects.all().delete()
    caching.changed(CACHE_KIND)
    assert _people(client) == 27
    assert RegionalYear.objects.get().stale_since is None


def test_new_points_are_never_shown_with_a_pattern_computed_without_them(
    activity: None, own: Society, regional: User, api: Callable[..., Client], settings: Any
) -> None:
    settings.REGIONAL_PATTERN_LAG = 900
    client = api(regional)
    assert _people(client) == 22
    before = RegionalYear.objects.get().computation
    ServicePoint.objects.create(
        national_society=own.society,
        code="hn-new",
        name="New point",
        latitude=own.point.latitude,
        longitude=own.point.longitude,
    )
    assert _people(client) == 22
    assert RegionalYear.objects.get().computation != before  # computed again at once


def test_trainings_and_referrals_make_their_year_stale(
    activity: None, own: Society, regional: User, api: Callable[..., Client]
) -> None:
    assert _people(api(regional)) == 22
    entry = RegionalYear.objects.get()
    changes = entry.changes
    Training.objects.create(
        national_society=own.society, title="First aid", topic="first-aid",
        day=timezone.localdate(),
    )  # fmt: skip
    entry.refresh_from_db()
    assert entry.changes == changes + 1
    assert entry.stale


def test_the_first_week_of_a_year_marks_the_quarter_it_belongs_to(db: None) -> None:
    # 1 January 2027 is a Friday: its week's Thursday is 31 December, in 2026's last quarter.
    assert store.years_of([dt.date(2027, 1, 1)]) == {2026, 2027}
    assert block_of(dt.date(2027, 1, 1), Granularity.WEEK).first == dt.date(2026, 10, 1)
    assert store.years_of([dt.date(2026, 6, 1)]) == {2026}


def test_the_job_keeps_the_current_year_ready(activity: None, own: Society) -> None:
    assert not RegionalYear.objects.exists()
    # Run by the periodic job, which holds its lock for its interval: held on while it
    # computes a year (a large network's takes longer).
    JobLock.objects.create(name=store.JOB, held_until=timezone.now() + dt.timedelta(minutes=1))
    assert store.refresh_all().startswith(f"computed: {own.society.network.slug} ")
    assert JobLock.objects.get().held_until > timezone.now() + dt.timedelta(minutes=30)
    assert RegionalYear.objects.filter(year=timezone.localdate().year).exists()
    assert store.refresh_all() == "nothing to compute"


def test_years_whose_straddling_week_holds_figures_are_protected_together(
    own: Society, regional: User, api: Callable[..., Client]
) -> None:
    """The week of 29 December 2025 belongs to 2026 (its Thursday is 1 January) and its
    figures are sums over days of both years: the two years are one system, computed and kept
    together, and a view over both reads one computation."""
    for day, people in ((dt.date(2025, 12, 30), 3), (dt.date(2026, 1, 2), 2)):
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
        for _ in range(people):
            person = register(own)
            people_actions.record_encounter(
                own.actor(), person, services=[("water", 1)], occurred_at=at
            )
    rollups.refresh()
    view = network_view(own.society.network_id)
    assert view is not None
    assert store.chain(view, 2025) == store.chain(view, 2026) == [2025, 2026]
    assert store.chain(view, 2024) == [2024]  # the week of 30 December 2024 holds nothing
    answer = api(regional).get(
        "/api/v1/indicators?granularity=week&start=2025-10-01&end=2026-03-29"
    )
    assert answer.status_code == 200
    entries = list(RegionalYear.objects.filter(year__in=[2025, 2026]))
    assert len(entries) == 2
    assert len({e.computation for e in entries}) == 1
    # The week's figures are linked to the days of both years (each year alone had no link).
    spaces = [
        block_of(dt.date(2026, 1, 1), Granularity.WEEK),
        block_of(dt.date(2025, 12, 1), Granularity.DAY),
        block_of(dt.date(2026, 1, 1), Granularity.DAY),
    ]
    systems = {(b.granularity, b.first): system.system(view, b) for b in spaces}
    across = [parts for _total, parts in system._links(systems) if len({p[1] for p in parts}) == 2]
    assert across
    assert not [
        parts
        for _total, parts in system._links({k: v for k, v in systems.items() if k[1].year == 2026})
        if any(p[1].year == 2025 for p in parts)
    ]


def test_the_same_figures_are_not_protected_again(
    activity: None, own: Society, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year computed again from the same figures (a rebuild that changed no figure, points
    saved unchanged) keeps the blocks already computed in the process; other figures are
    protected anew."""
    calls: list[int] = []
    real = system.protect_years

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("routecare.indicators.regional.store.protect_years", counted)
    store.forget_computed()
    network, year = own.society.network_id, timezone.localdate().year
    view = network_view(network)
    assert view is not None

    def payloads() -> list[bytes]:
        rows = RegionalBlock.objects.order_by("granularity", "first")
        return [bytes(row.payload) for row in rows]

    first = store.compute(view, network, year)[year]
    kept = payloads()
    again = store.compute(view, network, year)[year]
    assert len(calls) == 1
    assert again.computation != first.computation  # kept anew, as computed before
    assert payloads() == kept
    _supported(own, 1)
    rollups.refresh()
    view = network_view(network)
    assert view is not None
    store.compute(view, network, year)
    assert len(calls) == 2
    assert payloads() != kept
