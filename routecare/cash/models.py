"""Cash assistance rounds and their enrolments, for de-duplication across societies.

No name and no date of birth is stored here or anywhere: an enrolment keeps the round's keyed
linkage encoding of them (``linkage``), the year of birth and sex it is compared by, and the
verdict. The round's key is encrypted at rest, never shown or exported, and erased when the
round is closed or deleted; the encodings go with it. Read these models only through
``cash.selectors`` and change them only through ``cash.actions``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.cash import matching
from routecare.core.crypto import EncryptedJSONField
from routecare.orgs.models import NationalSociety, Network, ServicePoint
from routecare.orgs.taxonomy import Sex
from routecare.people.models import Person


class CashRound(models.Model):
    """A round of cash or voucher assistance: one society's, or the network's (no owner)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="cash_rounds")
    # None: a round of the whole network, run by the focal points of its participants.
    national_society = models.ForeignKey(
        NationalSociety,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_cash_rounds",
    )
    participants = models.ManyToManyField(NationalSociety, related_name="cash_rounds")
    name = models.CharField(max_length=120)
    starts_on = models.DateField()
    ends_on = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)  # ISO 4217
    # base64 of 32 random bytes, the linkage key; None once the round is closed.
    key = EncryptedJSONField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "name"]

    def __str__(self) -> str:
        return self.name

    def is_open_on(self, day: dt.date) -> bool:
        return self.closed_at is None and self.starts_on <= day <= self.ends_on


class Verdict(models.TextChoices):
    NO_MATCH = matching.Verdict.NO_MATCH.value, _("No match")
    POSSIBLE = matching.Verdict.POSSIBLE.value, _("Possible duplicate")
    PROBABLE = matching.Verdict.PROBABLE.value, _("Probable duplicate")


class EnrolmentStatus(models.TextChoices):
    CLEARED = "cleared", _("Cleared for payment")
    BLOCKED = "blocked", _("Blocked until a focal point reviews")
    REVIEW = "review", _("To be reviewed before payment")
    DUPLICATE = "duplicate", _("Confirmed duplicate: not paid")
    PAID = "paid", _("Paid")


class CashEnrolment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(CashRound, on_delete=models.CASCADE, related_name="enrolments")
    # The person is deleted with their record (retention, erasure): so is the enrolment.
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="cash_enrolments")
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="cash_enrolments"
    )
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, related_name="cash_enrolments"
    )
    enrolled_at = models.DateTimeField(default=timezone.now)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The keyed Bloom-filter encoding (linkage.FILTER_BYTES); None once the round is closed.
    encoding = models.BinaryField(null=True, editable=False)
    # The blocking keys (matching): never the date itself.
    birth_year = models.PositiveSmallIntegerField()
    sex = models.CharField(max_length=12, choices=Sex.choices)
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    similarity = models.FloatField(default=0.0)
    # The enrolment it resembles most (possibly another society's): its society never shows
    # here, only its date and point (cash.selectors.flag_of).
    matched = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=EnrolmentStatus.choices)
    checked_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(fields=["round", "person"], name="one_enrolment_per_round")
        ]
        indexes = [models.Index(fields=["round", "sex", "birth_year"], name="cash_block")]

    def __str__(self) -> str:
        return f"enrolment {self.id}"


class Decision(models.TextChoices):
    DUPLICATE = "duplicate", _("Confirmed duplicate")
    NOT_DUPLICATE = "not-duplicate", _("Not a duplicate")


class DuplicateReview(models.Model):
    """A focal point's decision on a flagged enrolment and the one it resembled. "Not a
    duplicate" holds for the pair: neither is flagged against the other again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    enrolment = models.ForeignKey(CashEnrolment, on_delete=models.CASCADE, related_name="reviews")
    other = models.ForeignKey(CashEnrolment, null=True, on_delete=models.SET_NULL, related_name="+")
    similarity = models.FloatField()
    decision = models.CharField(max_length=16, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"review of {self.enrolment_id}: {self.decision}"
