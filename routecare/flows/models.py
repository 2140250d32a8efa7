"""Route flows: daily counts per service point, alerts to the points downstream, early-action
triggers, stock of key supplies and transfer requests.

None of them holds personal data: counts are aggregates, alerts describe groups and places,
stock movements point at an encounter by its id only.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
    # Staff and volunteers on duty that day: optional, for the "arrivals per staff" trigger.
    staff_on_duty = models.PositiveIntegerField(null=True, blank=True)
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


class DailyCountContribution(models.Model):
    """A field node's own row for a point and day, added to the row the server already had
    for that point and day under another id (one row per point and day). What it added so far
    is kept, so that the node's next correction of its row adds only the difference."""

    id = models.UUIDField(primary_key=True, editable=False)  # the node's row id
    daily_count = models.ForeignKey(
        DailyCount, on_delete=models.CASCADE, related_name="contributions"
    )
    # The node's counts added so far: people, new_arrivals, departures, by_sex_and_age...
    added = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.pk} in {self.daily_count_id}"


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
    # Marked public: the wording for people on the move, {language: text} in the languages
    # they read (``fields.ALERT_PUBLIC_TEXTS``), sent once to the messaging helpdesk's
    # subscribers of the countries concerned. Empty: not public. Written apart from
    # ``message``, which is for staff and may say what must not reach the public.
    public_texts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} alert {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_public(self) -> bool:
        return bool(self.public_texts)


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


class Metric(models.TextChoices):
    ARRIVALS_3_DAY_AVERAGE = "arrivals-3-day-average", _("3-day average of arrivals")
    FORECAST_24H = "forecast-24h", _("Arrivals forecast for the next 24 hours")
    ARRIVALS_PER_STAFF = "arrivals-per-staff", _("Arrivals per staff member on duty")
    STOCK_DAYS_LEFT = "stock-days-left", _("Days of stock left")

    @property
    def falling_is_worse(self) -> bool:
        return self is Metric.STOCK_DAYS_LEFT


class TriggerState(models.TextChoices):
    NORMAL = "normal", _("Normal")
    READINESS = "readiness", _("Readiness")
    ACTIVATED = "activated", _("Activated")


class Trigger(models.Model):
    """An early-action rule: a metric of one point (or of all the society's points) against
    a readiness and an activation threshold, in the manner of the Honduran Red Cross early
    action protocol."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="triggers"
    )
    # None: the metric is taken over all the society's open points (the country).
    service_point = models.ForeignKey(
        ServicePoint, null=True, blank=True, on_delete=models.PROTECT, related_name="triggers"
    )
    name = models.CharField(max_length=120)
    metric = models.CharField(max_length=30, choices=Metric.choices)
    readiness = models.DecimalField(max_digits=9, decimal_places=1)
    activation = models.DecimalField(max_digits=9, decimal_places=1)
    state = models.CharField(
        max_length=10, choices=TriggerState.choices, default=TriggerState.NORMAL
    )
    value = models.DecimalField(max_digits=11, decimal_places=1, null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["national_society", "name"]

    def __str__(self) -> str:
        return self.name


class TriggerEvent(models.Model):
    """A change of a trigger's state, with the values that caused it: the log an early
    action protocol asks for. Each one waits for a society member's acknowledgement."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    from_state = models.CharField(max_length=10, choices=TriggerState.choices)
    to_state = models.CharField(max_length=10, choices=TriggerState.choices)
    value = models.DecimalField(max_digits=11, decimal_places=1)
    # The inputs behind the value, e.g. {"days": {"2026-11-20": 310, ...}}.
    inputs = models.JSONField(default=dict, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.trigger_id}: {self.from_state} → {self.to_state}"


class StockKind(models.TextChoices):
    MEDICINE = "medicine", _("Medicine")
    HYGIENE_KIT = "hygiene-kit", _("Hygiene kits")
    DIGNITY_KIT = "dignity-kit", _("Dignity kits")
    FOOD = "food", _("Food")
    WATER = "water", _("Water")
    CLOTHING = "clothing", _("Clothing")
    OTHER = "other", _("Other")


class StockItem(models.Model):
    """The level of one key supply at a point. When ``service`` is set, every recorded
    encounter delivering that service takes its quantity from the level."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, related_name="stock_items"
    )
    kind = models.CharField(max_length=20, choices=StockKind.choices)
    name = models.CharField(max_length=80)  # "Paracetamol 500 mg", "Water 1.5 l"
    unit = models.CharField(max_length=20, default="units")
    level = models.IntegerField(default=0)  # may go below 0 when use outruns the counts
    minimum = models.PositiveIntegerField(default=0)
    service = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service_point", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["service_point", "name"], name="one_item_per_name"),
            models.UniqueConstraint(
                fields=["service_point", "service"],
                condition=~models.Q(service=""),
                name="one_item_per_service",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.service_point_id}: {self.level}"

    @property
    def is_low(self) -> bool:
        return self.level <= self.minimum


class StockMovement(models.Model):
    """A change of a level. Counted and delivered stock are events of their own (a node sends
    them, as the change, never the level); what encounters and transfers move is moved again
    by them wherever they are applied."""

    class Reason(models.TextChoices):
        COUNTED = "counted", _("Counted")
        USED = "used", _("Used in encounters")
        DISPATCHED = "dispatched", _("Dispatched to another point")
        RECEIVED = "received", _("Received")
        DELIVERY = "delivery", _("Delivery")

    # A UUID made where the movement happened (a node, offline): the same movement sent
    # twice is one movement.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(StockItem, on_delete=models.CASCADE, related_name="movements")
    change = models.IntegerField()
    level_after = models.IntegerField()
    reason = models.CharField(max_length=12, choices=Reason.choices)
    encounter_id = models.UUIDField(null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            # An encounter moves an item once (what a correction gives back and takes is one
            # change): a second drain taking the same encounter fails instead of counting twice.
            models.UniqueConstraint(
                fields=["encounter_id", "item"],
                condition=models.Q(reason="used"),
                name="one_use_per_encounter_and_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.change:+d}"


class TransferRequest(models.Model):
    """A point asks another point of its society for supplies, or its society for surge
    staff: requested → dispatched → received (or declined, or cancelled)."""

    class Kind(models.TextChoices):
        SUPPLIES = "supplies", _("Supplies")
        STAFF = "staff", _("Surge staff")

    class Status(models.TextChoices):
        # A request's status: its own context, apart from referral statuses of the same words.
        REQUESTED = "requested", pgettext_lazy("transfer request", "Requested")
        DISPATCHED = "dispatched", pgettext_lazy("transfer request", "Dispatched")
        RECEIVED = "received", pgettext_lazy("transfer request", "Received")
        DECLINED = "declined", pgettext_lazy("transfer request", "Declined")
        CANCELLED = "cancelled", pgettext_lazy("transfer request", "Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    requesting_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, related_name="transfers_requested"
    )
    # For supplies: the point asked; for staff: the point that sends them (chosen later).
    supplying_point = models.ForeignKey(
        ServicePoint, null=True, blank=True, on_delete=models.PROTECT,
        related_name="transfers_supplied",
    )  # fmt: skip
    item_name = models.CharField(max_length=80, blank=True)
    item_kind = models.CharField(max_length=20, choices=StockKind.choices, blank=True)
    quantity = models.PositiveIntegerField()  # units, or staff members
    needed_by = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.kind} request {self.requested_at:%Y-%m-%d}: {self.status}"
