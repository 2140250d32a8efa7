"""Referrals: from one service point to another, across borders, or to a partner organisation,
with the minimum data the person consented to share, chosen field by field."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.core.crypto import EncryptedJSONField
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.orgs.taxonomy import Service, Urgency
from routecare.people.models import Person


class ReferralType(models.TextChoices):
    HEALTH = "health", _("Health")
    PROTECTION = "protection", _("Protection (GBV, trafficking, unaccompanied children)")
    RFL = "rfl", _("Restoring family links")
    PSS = "pss", _("Psychosocial support")
    LEGAL = "legal", _("Legal information")
    SHELTER = "shelter", _("Shelter")
    OTHER = "other", _("Other")


# Seen only by staff holding a protection role, at the sending and the receiving end.
RESTRICTED_TYPES = frozenset({ReferralType.PROTECTION})


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COMPLETED = "completed", _("Completed")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)


class Referral(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="referrals")
    # Copied: the receiver matches the person's card or code without reading the record.
    short_code = models.CharField(max_length=11, db_index=True)
    from_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="referrals_sent"
    )
    from_point = models.ForeignKey(ServicePoint, on_delete=models.PROTECT, related_name="+")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_society = models.ForeignKey(
        NationalSociety,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    # Empty for a referral to the society's RFL focal points or to an external partner.
    to_point = models.ForeignKey(
        ServicePoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner_name = models.CharField(max_length=160, blank=True)
    type = models.CharField(max_length=12, choices=ReferralType.choices)
    service = models.CharField(max_length=32, choices=Service.choices)
    reason = EncryptedJSONField()
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    due = models.DateField(null=True, blank=True)
    # The minimum data that travels: {field: value}, chosen field by field.
    shared = EncryptedJSONField(default=dict)
    consent_basis = models.CharField(max_length=10)  # "consent" or "override"
    override_reason = EncryptedJSONField(null=True, blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    service_warning_reason = EncryptedJSONField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    idempotency_key = models.CharField(max_length=64)
    # The one-time link for a partner not on RouteCare: only a digest of its secret is kept.
    partner_secret_digest = models.CharField(max_length=64, blank=True)
    partner_link_expires_at = models.DateTimeField(null=True, blank=True)
    partner_link_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_user", "idempotency_key"], name="one_referral_per_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"referral {self.id} ({self.status})"

    @property
    def restricted(self) -> bool:
        return self.type in RESTRICTED_TYPES

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReferralResponse(models.Model):
    """A status change or a reply, by either end: the sender sees every one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="responses")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_society = models.ForeignKey(
        NationalSociety, null=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=ReferralStatus.choices)
    note = EncryptedJSONField(null=True, blank=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.status} at {self.at:%Y-%m-%d %H:%M}"
