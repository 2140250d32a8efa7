"""Encounters and daily counts mark their point and day for the rollups, and queue a refresh
once their transaction commits (the dashboards lag entry by the worker's delay only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from routecare.flows.models import DailyCount
from routecare.indicators.rollups import mark_dirty
from routecare.people.models import Encounter


def _queue_refresh() -> None:
    from routecare.indicators.tasks import refresh_rollups

    transaction.on_commit(lambda: refresh_rollups.enqueue())


def _encounter_saved(sender: Any, instance: Encounter, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    day = instance.occurred_at.astimezone(dt.UTC).date()
    mark_dirty(instance.service_point_id, day)
    if instance.corrects_id is not None:
        corrected = Encounter.objects.filter(pk=instance.corrects_id).values_list(
            "service_point_id", "occurred_at"
        )
        for point_id, occurred_at in corrected:
            mark_dirty(point_id, occurred_at.astimezone(dt.UTC).date())
    _queue_refresh()


def _count_saved(sender: Any, instance: DailyCount, **kwargs: Any) -> None:
    mark_dirty(instance.service_point_id, instance.day)
    _queue_refresh()


def connect() -> None:
    post_save.connect(_encounter_saved, sender=Encounter, dispatch_uid="indicators-encounter")
    post_save.connect(_count_saved, sender=DailyCount, dispatch_uid="indicators-count")
