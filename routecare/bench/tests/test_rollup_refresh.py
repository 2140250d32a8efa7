"""The bench's rollup refresh on day 3 and day 28 of a synthetic month: both figures, their
ratio against its target, and nothing of the synthetic month left behind."""

from __future__ import annotations

from routecare.bench.indicators import REFRESH_COUNTRY, measure_rollup_refresh
from routecare.bench.orchestrate import TARGETS, meets_targets
from routecare.indicators.models import PeopleRollup, PeopleSeen
from routecare.people.models import Encounter, Person


def test_the_refresh_is_timed_on_day_3_and_day_28_and_leaves_nothing(db: None) -> None:
    figures = measure_rollup_refresh(lambda _message: None, per_day=24, pool=40, repeats=1)
    timed = figures["rollup_refresh"]
    assert timed["rollup_refresh_day3_ms"] > 0
    assert timed["rollup_refresh_day28_ms"] > 0
    assert figures["rollup_refresh_day28_over_day3"] == round(
        timed["rollup_refresh_day28_ms"] / timed["rollup_refresh_day3_ms"], 2
    )
    assert figures["rollup_refresh_ratio_max"] == TARGETS["rollup_refresh_day28_over_day3_max"]
    society = {"person__national_society__country_code": REFRESH_COUNTRY}
    assert not Encounter.objects.filter(**society).exists()
    assert not Person.objects.filter(national_society__country_code=REFRESH_COUNTRY).exists()
    assert not PeopleSeen.objects.exists()
    assert not PeopleRollup.objects.filter(national_society__country_code=REFRESH_COUNTRY).exists()


def test_a_refresh_that_grows_with_the_month_fails_the_targets() -> None:
    fine = {
        "person_lookup_ms": {"p95": 10.0},
        "encounter_writes_per_s": 500.0,
        "served": {"lookup_floor_ratio": 1.0, "write_floor_ratio": 1.0},
        "encounter_write_statements": 8,
    }
    assert meets_targets({**fine, "indicators": {"rollup_refresh_day28_over_day3": 1.1}})
    assert not meets_targets({**fine, "indicators": {"rollup_refresh_day28_over_day3": 7.4}})
