"""Periodic jobs let their lock go when the worker is stopped in the middle of one; apps
register their own jobs."""

from __future__ import annotations

import datetime as dt
import io
import re
import signal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from routecare.core import periodic
from routecare.core.models import JobLock
from routecare.core.periodic import acquire, run_locked, stop_on_sigterm


def _stopped() -> str:
    raise SystemExit(143)


def test_a_job_stopped_midway_lets_its_lock_go_and_stays_due(db: None) -> None:
    with pytest.raises(SystemExit):
        run_locked("test.job", _stopped)
    lock = JobLock.objects.get(name="test.job")
    assert lock.held_until <= timezone.now()
    assert lock.last_run_at is None
    assert lock.last_result == "stopped before the end"
    assert acquire(
        "test.job", dt.timedelta(minutes=10), timezone.now()
    )  # the next worker may run it


def test_a_job_that_finishes_records_its_run(db: None) -> None:
    assert run_locked("test.job", lambda: "done") == "done"
    lock = JobLock.objects.get(name="test.job")
    assert lock.last_run_at is not None
    assert lock.last_result == "done"


def test_sigterm_becomes_system_exit() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        stop_on_sigterm()
        with pytest.raises(SystemExit) as stopped:
            signal.raise_signal(signal.SIGTERM)
        assert stopped.value.code == 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_it_runs_the_jobs_apps_register_and_knows_no_app_itself() -> None:
    names = {job.name for job in periodic._jobs()}
    assert {
        "indicators.refresh",
        "indicators.kobo-pull",
        "flows.evaluate-triggers",
        "referrals.expire-overdue",
        "retention.purge",
        "core.forget-rate-windows",
        "cash.close_ended",
        "preregistration.purge",
    } <= names
    source = Path(periodic.__file__).read_text()
    other_apps = re.findall(r"routecare\.(\w+)", source)
    assert set(other_apps) <= {"core"}


def test_the_worker_says_when_each_job_ended_and_what_it_cost(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy() -> str:
        sum(range(200_000))  # some CPU for the line to report
        return "did some work"

    job = periodic.Job("test.busy", dt.timedelta(seconds=1), busy)
    monkeypatch.setattr(periodic, "_JOBS", {job.name: job})
    output = io.StringIO()

    call_command("periodic", "--once", stdout=output)

    line = output.getvalue().strip()
    found = re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ test\.busy: did some work "
        r"\((\d+\.\d\d) s, CPU (\d+\.\d\d) s\)",
        line,
    )
    assert found is not None, line
    assert JobLock.objects.get(name="test.busy").last_result == "did some work"
