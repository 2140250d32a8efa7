"""Bookkeeping of the service itself: no personal data."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class JobLock(models.Model):
    """Held while a periodic job runs, so two runs (two servers, a slow run and the next
    tick) never overlap. A crashed run frees it when ``held_until`` passes."""

    name = models.CharField(max_length=60, primary_key=True)
    held_until = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name
