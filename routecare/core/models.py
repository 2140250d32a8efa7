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


class RateWindow(models.Model):
    """Requests of one kind per client and window, for rate limits. The client is a keyed
    hash of its address and the window (not reversible, not linkable from one window to the
    next); rows are deleted once their window has passed. No address is stored."""

    scope = models.CharField(max_length=40)
    client = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "client", "window_start"], name="one_rate_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.window_start}: {self.count}"
