"""Periodic jobs: plain functions run by `routecare periodic` (the database is the lock).

Each job takes no arguments and returns a short summary for the log, which must hold no
personal data. Each app registers its own jobs in its ``AppConfig.ready()`` (``register``);
core runs what is registered and knows no app.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from routecare.core.models import JobLock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: dt.timedelta
    run: Callable[[], str]


# A run holds its lock at least this long, however often its job runs: a slow run is never
# joined by a second one.
MIN_HOLD = dt.timedelta(minutes=10)


_JOBS: dict[str, Job] = {}


def register(name: str, every: dt.timedelta, run: Callable[[], str]) -> Job:
    """Add an app's job (once: a second ``ready()`` in tests registers the same name again)."""
    job = Job(name, every, run)
    _JOBS[name] = job
    return job


def _jobs() -> list[Job]:
    return list(_JOBS.values())


def acquire(name: str, hold: dt.timedelta, now: dt.datetime) -> bool:
    """Take the job's lock unless another run holds it: one conditional UPDATE, atomic on
    SQLite and PostgreSQL alike."""
    JobLock.objects.get_or_create(name=name, defaults={"held_until": now})
    return JobLock.objects.filter(name=name, held_until__lte=now).update(held_until=now + hold) == 1


# Told of each job run by ``run_due``: its name, result, wall seconds and CPU seconds (this
# process's only: the database's work for it is not in them).
Report = Callable[[str, str, float, float], None]


def run_due(
    now: dt.datetime | None = None, *, force: bool = False, report: Report | None = None
) -> dict[str, str]:
    """Run every job whose interval has passed since its last run (all of them with
    ``force``); a job another process is running is skipped."""
    now = now or timezone.now()
    results: dict[str, str] = {}
    for job in _jobs():
        lock = JobLock.objects.filter(name=job.name).first()
        due = force or lock is None or lock.last_run_at is None
        if not due and lock is not None and lock.last_run_at is not None:
            due = lock.last_run_at + job.every <= now
        if not due:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        results[job.name] = run_locked(job.name, job.run, now, max(job.every, MIN_HOLD))
        if report is not None:
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            report(job.name, results[job.name], wall, cpu)
    return results


def run_locked(
    name: str,
    run: Callable[[], str],
    now: dt.datetime | None = None,
    hold: dt.timedelta = MIN_HOLD,
) -> str:
    """Run a job unless another process holds its lock; its one-line result."""
    now = now or timezone.now()
    if not acquire(name, hold, now):
        return "skipped: running elsewhere"
    try:
        result = run()
    except Exception:
        logger.exception("periodic job %s failed", name)
        result = "failed"
    except BaseException:
        # Stopped (SIGTERM, Ctrl-C): let the lock go now rather than in ``hold``, and leave the
        # job due, so the next worker runs it at once.
        JobLock.objects.filter(name=name).update(
            held_until=timezone.now(), last_result="stopped before the end"
        )
        raise
    JobLock.objects.filter(name=name).update(
        held_until=timezone.now(), last_run_at=now, last_result=result[:200]
    )
    return result


def stop_on_sigterm() -> None:
    """Turn SIGTERM (systemd, docker, `make worker` stopping) into SystemExit, so a job that is
    running lets its lock go (``run_locked``) instead of keeping it for up to ``MIN_HOLD``."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
