"""Route flows: daily counts per service point, and alerts to the points downstream.

Neither holds personal data: counts are aggregates, alerts describe groups and places.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.orgs.models import NationalSociety, Route, ServicePoint


class DailyCount(models.Model):
    """What a coordinator counted at a point on a day. Counts derived from encounters are
    computed when needed, not stored: an entered count, when there is one, takes precedence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, related_name="daily_counts"
    )
    day = models.DateField()
    people = models.PositiveIntegerField()
    # {"female": {"0-4": 3, ...}, ...}: optional, but when given it sums to ``people``.
    by_sex_and_age = models.JSONField(default=dict, blank=True)
    new_arrivals = models.PositiveIntegerField(default=0)
    departures = models.PositiveIntegerField(default=0)
    # {"VE": 12, ...}: optional.
    nationalities = models.JSONField(default=dict, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["service_point", "day"], name="one_count_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.service_point_id} {self.day}: {self.people}"


class AlertKind(models.TextChoices):
    GROUP_MOVEMENT = "group-movement", _("Group movement")
    OUTBREAK = "outbreak", _("Disease outbreak")
    CLOSURE = "closure", _("Closure")
    ROUTE_CHANGE = "route-change", _("Route change")
    SECURITY = "security", _("Security")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class Alert(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    from_society = models.ForeignKey(NationalSociety, on_delete=models.PROTECT, related_name="+")
    from_point = models.ForeignKey(
        ServicePoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.INFO)
    message = models.CharField(max_length=500)
    group_size = models.PositiveIntegerField(null=True, blank=True)
    direction = models.CharField(max_length=120, blank=True)
    route = models.ForeignKey(Route, null=True, blank=True, on_delete=models.PROTECT)
    # The points the alert reaches (downstream ones, a network's, or chosen societies').
    targets = models.ManyToManyField(ServicePoint, related_name="alerts_received")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} alert {self.created_at:%Y-%m-%d %H:%M}"


class AlertAcknowledgement(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="acknowledgements")
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "national_society"], name="one_acknowledgement_per_society"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} acknowledged by {self.national_society_id}"
