"""How long a National Society keeps personal data, and the purges that enforced it.

A purge deletes the records of people not seen for the society's chosen number of months and
keeps what reports need: the indicator rollups of the periods it touched become final (a
rebuild leaves them as they are), and the audit trail keeps its events, which name no one.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.orgs.models import NationalSociety

MIN_MONTHS = 1
MAX_MONTHS = 120


class RetentionPolicy(models.Model):
    national_society = models.OneToOneField(
        NationalSociety, on_delete=models.CASCADE, primary_key=True, related_name="retention"
    )
    # None: records are kept until a person asks for erasure.
    inactive_months = models.PositiveSmallIntegerField(
        _("Delete people not seen for (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_MONTHS), MaxValueValidator(MAX_MONTHS)],
    )
    # Off: the daily run only counts who would be deleted (a dry run).
    purge_enabled = models.BooleanField(_("Delete automatically every day"), default=False)
    # Rollup rows of periods starting before this day are final: a purge deleted encounters
    # they count, so recomputing them would lose people who were helped.
    aggregates_final_before = models.DateField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        return f"retention of {self.national_society_id}: {self.inactive_months} months"


class PurgeRun(models.Model):
    """One purge, dry or not: when, up to when people had to have been seen, how many."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.CASCADE, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    dry_run = models.BooleanField()
    seen_before = models.DateTimeField()
    people = models.PositiveIntegerField(default=0)
    kept_for_open_referrals = models.PositiveIntegerField(default=0)
    by = models.CharField(max_length=150)  # a username, "(daily job)" or "(command line)"

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"purge {self.started_at:%Y-%m-%d} {self.national_society_id}: {self.people}"
