"""The retention purge: people not seen for the society's period go, indicators stay."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.cards.actions import issue_card
from routecare.cards.keys import ensure_keys
from routecare.cards.models import Card, RevokedSerial
from routecare.conftest import Society, register
from routecare.core.periodic import run_locked
from routecare.indicators import bulk, rollups
from routecare.indicators.models import Granularity, PeopleRollup, ServiceRollup
from routecare.people import actions
from routecare.people.models import Consent, Encounter, FollowUp, HealthSummary, Person
from routecare.referrals.actions import Destination, send_referral
from routecare.retention.actions import purge_all, purge_society, seen_before, set_policy
from routecare.retention.models import PurgeRun, RetentionPolicy

NOW = timezone.now()
LONG_AGO = NOW - dt.timedelta(days=270)


def _registered_long_ago(society: Society, **values: Any) -> Person:
    person = register(society, **values)
    Person.objects.filter(pk=person.pk).update(created_at=LONG_AGO - dt.timedelta(days=1))
    person.refresh_from_db()
    return person


def _seen(
    society: Society, person: Person, when: dt.datetime | None, service: str = "water"
) -> None:
    actions.record_encounter(
        society.actor(), person, services=[(service, 1)], occurred_at=when, notes="seen"
    )


def _monthly() -> list[tuple[Any, ...]]:
    return sorted(
        PeopleRollup.objects.filter(granularity=Granularity.MONTH).values_list(
            "period_start", "scope", "scope_id", "sex", "age_band", "population_group",
            "registered", "counted", "encounters", "consultations",
        )
    )  # fmt: skip


def _services() -> list[tuple[Any, ...]]:
    return sorted(
        ServiceRollup.objects.values_list("day", "service_point_id", "service", "quantity")
    )


@pytest.fixture
def inactive(own: Society) -> Person:
    """Seen twice nine months ago, with a health summary, a follow-up and a card."""
    person = _registered_long_ago(own, sex="male")
    _seen(own, person, LONG_AGO, "first-aid")
    _seen(own, person, LONG_AGO + dt.timedelta(hours=2))
    actions.update_health_summary(own.actor(), person, allergies=["sulfa"])
    actions.add_follow_up(own.actor(), person, actions.FollowUpInput("insulin refill"))
    actions.give_consent(own.actor(), person, "share-network", "es")
    ensure_keys(own.society.network)
    issue_card(own.actor(), person)
    return person


@pytest.fixture
def active(own: Society) -> Person:
    """Seen nine months ago too, and again today."""
    person = _registered_long_ago(own, sex="female")
    _seen(own, person, LONG_AGO)
    _seen(own, person, None)
    return person


def test_seen_before_is_the_first_of_the_month_months_back() -> None:
    now = dt.datetime(2026, 12, 2, 11, 0, tzinfo=dt.UTC)
    assert seen_before(6, now) == dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert seen_before(12, now) == dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
    assert seen_before(13, now) == dt.datetime(2025, 11, 1, tzinfo=dt.UTC)


def test_without_a_policy_nothing_is_purged(own: Society, inactive: Person) -> None:
    report = purge_society(own.society, apply=True)
    assert report.seen_before is None
    assert Person.objects.filter(pk=inactive.pk).exists()


def test_the_dry_run_counts_and_deletes_nothing(
    own: Society, inactive: Person, active: Person
) -> None:
    set_policy(own.actor("focal_point"), inactive_months=6, purge_enabled=False)
    report = purge_society(own.society)
    assert report.dry_run
    assert report.people == 1
    assert Person.objects.filter(pk=inactive.pk).exists()
    run = PurgeRun.objects.get()
    assert run.dry_run
    assert run.people == 1


def test_purge_removes_the_inactive_person_and_keeps_the_monthly_indicators(
    own: Society, inactive: Person, active: Person
) -> None:
    rollups.refresh_since(NOW - dt.timedelta(days=1))
    monthly, services = _monthly(), _services()
    long_ago_month = rollups.period_start(LONG_AGO.date(), Granularity.MONTH)
    society_row = PeopleRollup.objects.get(
        granularity=Granularity.MONTH, period_start=long_ago_month, scope="society", sex="male"
    )
    assert (society_row.registered, society_row.encounters) == (1, 2)
    card = Card.objects.get(person=inactive)
    set_policy(own.actor("focal_point"), inactive_months=6, purge_enabled=True)

    report = purge_society(own.society, apply=True)

    assert (report.people, report.dry_run) == (1, False)
    assert not Person.objects.filter(pk=inactive.pk).exists()
    for model in (Encounter, HealthSummary, FollowUp, Consent, Card):
        assert not model.objects.filter(person_id=inactive.pk).exists(), model
    assert Person.objects.filter(pk=active.pk).exists()
    assert Encounter.objects.filter(person=active).count() == 2
    # The card in the person's hand is no longer read anywhere in the network.
    assert RevokedSerial.objects.filter(serial=card.serial).exists()
    assert _monthly() == monthly
    assert _services() == services
    # Neither the next refresh nor a full rebuild recounts the periods the purge touched.
    rollups.refresh_since(LONG_AGO - dt.timedelta(days=30))
    assert _monthly() == monthly
    bulk.rebuild_all()
    assert _monthly() == monthly
    assert _services() == services
    # The audit trail keeps its events about the person, and the purge itself.
    assert AuditEvent.objects.filter(person_id=inactive.pk).exists()
    assert AuditEvent.objects.filter(action="erase", detail__contains="1 people").exists()


def test_periods_after_the_purge_are_still_counted(
    own: Society, inactive: Person, active: Person
) -> None:
    set_policy(own.actor("focal_point"), inactive_months=6, purge_enabled=True)
    purge_society(own.society, apply=True)
    final = RetentionPolicy.objects.get(national_society=own.society).aggregates_final_before
    assert final == seen_before(6, NOW).date()
    _seen(own, active, None, "food")
    run_locked("indicators.refresh", rollups.refresh)
    this_month = rollups.period_start(timezone.now().date(), Granularity.MONTH)
    row = PeopleRollup.objects.get(
        granularity=Granularity.MONTH, period_start=this_month, scope="society", sex="female"
    )
    assert (row.registered, row.encounters) == (1, 2)


def test_a_person_with_an_open_referral_is_kept(own: Society, inactive: Person) -> None:
    send_referral(
        own.actor(), inactive, destination=Destination(point=own.second_point),
        referral_type="health", service="medicines", reason="insulin",
        service_warning_reason="the pharmacy is next door",
        idempotency_key="retention-test-1",
    )  # fmt: skip
    set_policy(own.actor("focal_point"), inactive_months=6, purge_enabled=True)
    report = purge_society(own.society, apply=True)
    assert (report.people, report.kept_for_open_referrals) == (0, 1)
    assert Person.objects.filter(pk=inactive.pk).exists()


def test_the_daily_job_deletes_only_where_the_focal_point_turned_deletion_on(
    own: Society, other: Society, inactive: Person
) -> None:
    elsewhere = _registered_long_ago(other)
    _seen(other, elsewhere, LONG_AGO)
    set_policy(own.actor("focal_point"), inactive_months=6, purge_enabled=False)
    set_policy(other.actor("focal_point"), inactive_months=6, purge_enabled=True)
    summary = purge_all()
    assert "would delete 1 people" in summary
    assert "deleted 1 people" in summary
    assert Person.objects.filter(pk=inactive.pk).exists()
    assert not Person.objects.filter(pk=elsewhere.pk).exists()


def test_the_command_is_a_dry_run_unless_told_to_apply(
    own: Society, inactive: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    set_policy(own.actor("focal_point"), inactive_months=6, purge_enabled=False)
    call_command("purge", "--society", own.society.country_code)
    assert "would delete 1 people" in capsys.readouterr().out
    assert Person.objects.filter(pk=inactive.pk).exists()
    call_command("purge", "--society", own.society.country_code, "--apply")
    assert "deleted 1 people" in capsys.readouterr().out
    assert not Person.objects.filter(pk=inactive.pk).exists()
