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

from routecare.core.crypto import EncryptedJSONField
from routecare.orgs.models import NationalSociety, Network, ServicePoint


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


class RollupState(models.Model):
    """How far the refresh has read encounters and counts (by when they were recorded)."""

    name = models.CharField(max_length=20, primary_key=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.until}"


class RegionalYear(models.Model):
    """A network's year of regional dashboards, protected ahead (``regional.store``): how
    often its figures changed, and which of those changes its kept blocks include."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    changes = models.PositiveIntegerField(default=0)  # one more at each change of its figures
    computed_changes = models.PositiveIntegerField(null=True)  # ``changes`` when computed
    computed_at = models.DateTimeField(null=True)  # when the kept figures were read
    stale_since = models.DateTimeField(null=True)  # the first change the kept ones lack
    computation = models.UUIDField(default=uuid.uuid4)  # a new one at each computation
    places = models.CharField(max_length=64, blank=True)  # the points and routes computed over

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "year"], name="one_regional_year")
        ]

    def __str__(self) -> str:
        return f"{self.network_id} {self.year}"

    @property
    def stale(self) -> bool:
        return self.computed_changes is None or self.changes > self.computed_changes


class RegionalBlock(models.Model):
    """A block of a network's year as its dashboards show it: the figures read from the
    rollups and the cells hidden, as compressed JSON (aggregates only, no person)."""

    year = models.ForeignKey(RegionalYear, on_delete=models.CASCADE, related_name="blocks")
    granularity = models.CharField(max_length=5, choices=Granularity.choices)
    first = models.DateField()
    payload = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["year", "granularity", "first"], name="one_regional_block"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year_id} {self.granularity} {self.first}"


class PeopleSeen(models.Model):
    """A person seen in a rollup's period and scope ("first seen in period"): their current
    encounters there, and the cells they were counted in. The refresh reads these for the
    people of new encounters only, so a month's distinct count costs the same on its 28th day
    as on its 3rd (``seen.py``).

    Personal data (a pseudonymous person linked to places and periods): read only by the
    rollup refresh, never shown; deleted with the person (and their contribution taken out
    of the rollups first, ``seen.forget_person``) and, for periods a retention purge made
    final, by the purge (``seen.forget_final``)."""

    granularity = models.CharField(max_length=5, choices=Granularity.choices)
    period_start = models.DateField()
    scope = models.CharField(max_length=12, choices=Scope.choices)
    scope_id = models.UUIDField()
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.CASCADE, related_name="+"
    )
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    sex = models.CharField(max_length=12)
    age_band = models.CharField(max_length=6)
    population_group = models.CharField(max_length=16)
    encounters = models.PositiveIntegerField()
    consultations = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "scope_id", "granularity", "period_start", "scope", "national_society",
                    "person",
                ],
                name="one_seen_person_per_rollup",
            )
        ]  # fmt: skip
        indexes = [models.Index(fields=["person", "period_start"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.granularity} {self.period_start}"


class SeenPeriod(models.Model):
    """A rollup whose ``PeopleSeen`` rows are complete, with the points it covered then
    (``members``, a digest): a rollup without one, or whose points changed (a route's stops,
    a point's kind), is recomputed from its encounters once, then kept up to date from new
    encounters only."""

    granularity = models.CharField(max_length=5, choices=Granularity.choices)
    period_start = models.DateField()
    scope = models.CharField(max_length=12, choices=Scope.choices)
    scope_id = models.UUIDField()
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.CASCADE, related_name="+"
    )
    members = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_id", "granularity", "period_start", "scope", "national_society"],
                name="one_seen_period_per_rollup",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.granularity} {self.period_start}"


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


class ImportTarget(models.TextChoices):
    DAILY_COUNT = "daily-count", _("Daily counts")
    TRAINING = "training", _("Trainings")
    ENCOUNTER = "encounter", _("Encounters of registered people")


class KoboConnection(models.Model):
    """A KoboToolbox form a focal point connected: where it is, the API token (encrypted at
    rest, never shown again), and how its questions map to RouteCare fields."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="kobo_connections"
    )
    name = models.CharField(max_length=120)
    server_url = models.URLField(max_length=200)  # e.g. https://kf.kobotoolbox.org
    token = EncryptedJSONField()
    asset_uid = models.CharField(max_length=64)
    target = models.CharField(max_length=12, choices=ImportTarget.choices)
    # RouteCare field -> Kobo question path ("group/question"); see docs/indicators.md.
    mapping = models.JSONField(default=dict)
    enabled = models.BooleanField(default=True)
    # Submissions a supervisor marked Not Approved in Kobo are skipped unless this is set.
    include_not_approved = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        # One connection per form in a society (server_url is stored normalised), or every
        # submission would be imported once per connection. Other societies connect the
        # same form separately, each into its own figures. Connections disabled when this
        # came (earlier duplicates) stay for their history.
        constraints = [
            models.UniqueConstraint(
                fields=["national_society", "server_url", "asset_uid"],
                condition=models.Q(enabled=True),
                name="one_connection_per_society_form",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ImportedSubmission(models.Model):
    """One Kobo submission already imported, and what it became: a re-pulled submission is
    recognised by its form (the society's connections to the same server and asset uid) and
    ``meta/rootUuid`` (kept by every edit), or its ``_id``, ``_uuid`` or the
    ``meta/deprecatedID`` of an edit, and updates its record instead of adding one. A
    submission rejected in Kobo after import is withdrawn: what it became is removed and
    ``withdrawn_at`` set (``object_id`` empty) until it is approved again."""

    connection = models.ForeignKey(
        KoboConnection, on_delete=models.CASCADE, related_name="submissions"
    )
    kobo_id = models.BigIntegerField(null=True, blank=True)
    submission_uuid = models.CharField(max_length=64)
    root_uuid = models.CharField(max_length=64, blank=True, db_index=True)
    content_hash = models.CharField(max_length=64)
    object_type = models.CharField(max_length=20)
    object_id = models.CharField(max_length=64)
    imported_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "submission_uuid"], name="one_import_per_submission"
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}:{self.submission_uuid}"


class ImportRun(models.Model):
    """One pull or upload: what it found, and a report line per submission it refused."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        DONE_WITH_ERRORS = "errors", _("Done, some submissions refused")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    connection = models.ForeignKey(KoboConnection, on_delete=models.CASCADE, related_name="runs")
    source = models.CharField(max_length=10)  # "server" or "file"
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DONE)
    message = models.CharField(max_length=300, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # marked Not Approved, not imported
    withdrawn = models.PositiveIntegerField(default=0)  # rejected after import, removed
    # [{"submission": "<uuid or row>", "error": "..."}]: never the submission's content.
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
