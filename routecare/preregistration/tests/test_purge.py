"""Pre-registrations are deleted at expiry by a periodic job that reports counts only."""

from __future__ import annotations

import datetime as dt

import pytest

from routecare.core import periodic
from routecare.preregistration import actions, selectors
from routecare.preregistration.models import PreRegistration

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def _preregister(token: str, now: dt.datetime) -> str:
    answers = actions.Answers(language="ps", sex="female", travel_group="alone",
                              age_band="18-59", consents=["care"], allergies=["latex"])  # fmt: skip
    return actions.preregister(answers, form_token=token, now=now).code


def test_expired_pre_registrations_are_deleted_and_counted_without_details() -> None:
    _preregister("expired-never-used-000", NOW - dt.timedelta(days=15))
    _preregister("expired-and-used-00000", NOW - dt.timedelta(days=15))
    used = PreRegistration.objects.order_by("submission_digest").first()
    assert used is not None
    PreRegistration.objects.filter(pk=used.pk).update(
        used_at=NOW - dt.timedelta(days=10), details=None, health=None
    )
    live = _preregister("still-valid-token-0000", NOW - dt.timedelta(days=13))
    summary = actions.purge_expired(NOW)
    assert summary == "2 expired pre-registrations deleted, 1 of them never used"
    assert PreRegistration.objects.count() == 1
    assert live not in summary
    assert "latex" not in summary


def test_the_purge_is_a_registered_periodic_job() -> None:
    job = periodic._JOBS["preregistration.purge"]
    assert job.run is actions.purge_expired
    assert job.every <= dt.timedelta(hours=1)


def test_a_code_is_usable_until_its_fourteenth_day_ends() -> None:
    code = _preregister("fourteen-days-token-00", NOW)
    assert selectors.usable(code, NOW + dt.timedelta(days=14) - dt.timedelta(seconds=1))
    with pytest.raises(selectors.RefusedError) as caught:
        selectors.usable(code, NOW + dt.timedelta(days=14))
    assert caught.value.reason == selectors.EXPIRED
