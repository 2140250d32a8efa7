"""Programme indicators: rollups of encounters and daily counts (kept up to date by a task,
so dashboards never read encounters), and the trainings of staff and volunteers.

Rollups hold counts only. A count of people is never split below sex × age band × population
group of one service point and one day, and dashboards shown outside the owning society
suppress small cells (see ``disclosure.py``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.orgs.models import NationalSociety, ServicePoint


class Granularity(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class Scope(models.TextChoices):
    """What a row counts people over. People are unique within a row: a person seen at three
    points of a society in a month is one person in the society's row for that month."""

    POINT = "point", _("Service point")
    SOCIETY = "society", _("National Society")
    SOCIETY_HSP = "society-hsp", _("National Society, humanitarian service points only")
    ROUTE = "route", _("Route (the society's points on it)")


class PeopleRollup(models.Model):
    granularity = models.CharField(max_length=5, choices=Granularity.choices)
    period_start = models.DateField()
    scope = models.CharField(max_length=12, choices=Scope.choices)
    scope_id = models.UUIDField()  # the point, the society or the route
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.CASCADE, related_name="+"
    )
    sex = models.CharField(max_length=12)
    age_band = models.CharField(max_length=6)  # "" when a daily count gave no breakdown
    population_group = models.CharField(max_length=16)
    registered = models.PositiveIntegerField(default=0)  # unique registered people
    counted = models.PositiveIntegerField(default=0)  # counted in daily counts, not registered
    encounters = models.PositiveIntegerField(default=0)
    consultations = models.PositiveIntegerField(default=0)  # encounters with a health service

    class Meta:
        indexes = [
            models.Index(fields=["scope", "granularity", "period_start"]),
            models.Index(fields=["scope_id", "granularity", "period_start"]),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.granularity} {self.period_start}"


class ServiceRollup(models.Model):
    """Services delivered per point and day (additive, so any period is a sum)."""

    day = models.DateField()
    service_point = models.ForeignKey(ServicePoint, on_delete=models.CASCADE, related_name="+")
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.CASCADE, related_name="+"
    )
    service = models.CharField(max_length=32)
    quantity = models.PositiveIntegerField(default=0)
    encounters = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["national_society", "day"])]

    def __str__(self) -> str:
        return f"{self.service_point_id} {self.day} {self.service}"


class RollupDirty(models.Model):
    """A point and day whose rollups must be recomputed (an encounter or a count changed)."""

    service_point = models.ForeignKey(ServicePoint, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service_point", "day"], name="one_dirty_point_day")
        ]

    def __str__(self) -> str:
        return f"{self.service_point_id} {self.day}"


class TrainingTopic(models.TextChoices):
    FIRST_AID = "first-aid", _("First aid")
    PSYCHOSOCIAL = "psychosocial-support", _("Psychosocial support")
    PROTECTION = "protection", _("Protection, gender and inclusion")
    RFL = "rfl", _("Restoring family links")
    HEALTH = "health", _("Health in migration")
    CEA = "cea", _("Community engagement and accountability")
    OTHER = "other", _("Other")


class Training(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="trainings"
    )
    service_point = models.ForeignKey(
        ServicePoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=160)
    topic = models.CharField(max_length=24, choices=TrainingTopic.choices)
    day = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return self.title

    @property
    def attended(self) -> int:
        return sum(line.people for line in self.attendance.all())


class TrainingAttendance(models.Model):
    """How many staff or volunteers of a sex completed a training: numbers, not names."""

    class Role(models.TextChoices):
        STAFF = "staff", _("Staff")
        VOLUNTEER = "volunteer", _("Volunteers")

    training = models.ForeignKey(Training, on_delete=models.CASCADE, related_name="attendance")
    role = models.CharField(max_length=10, choices=Role.choices)
    sex = models.CharField(max_length=12)
    people = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["training", "role", "sex"], name="one_attendance_line")
        ]

    def __str__(self) -> str:
        return f"{self.training_id}: {self.people} {self.role} {self.sex}"
