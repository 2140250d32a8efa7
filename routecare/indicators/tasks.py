"""Indicator background work, run by the worker (`make worker`)."""

from __future__ import annotations

from django_tasks import task


@task()
def refresh_rollups() -> str:
    """Recompute the rollups of the dirty points and days, unless a run is under way (the
    periodic job picks up what it leaves)."""
    from routecare.core.periodic import run_locked
    from routecare.indicators.rollups import refresh

    return run_locked("indicators.refresh", refresh)
