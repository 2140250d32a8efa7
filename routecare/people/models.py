"""Pseudonymous people, their encounters, health summaries, follow-ups and consents.

No names, dates of birth, document numbers, photos, biometrics or precise locations of a
person are stored. Health and protection-related fields and free-text notes are encrypted at
rest. Read these models only through ``people.selectors`` and change them only through
``people.actions``.
"""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.core.crypto import EncryptedJSONField
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.orgs.taxonomy import AgeBand, Service, Sex, TriageColour, Urgency


class TravelGroup(models.TextChoices):
    ALONE = "alone", _("Travelling alone")
    FAMILY = "family", _("With family")
    UNACCOMPANIED_MINOR = "unaccompanied-minor", _("Unaccompanied minor")


class PopulationGroup(models.TextChoices):
    """Who the programme reports count: people on the move, returnees, host communities."""

    ON_THE_MOVE = "on-the-move", _("Person on the move")
    RETURNEE = "returnee", _("Returnee")
    HOST_COMMUNITY = "host-community", _("Host community member")


class Vulnerability(models.TextChoices):
    PREGNANT = "pregnant", _("Pregnant or breastfeeding")
    DISABILITY = "disability", _("Disability")
    CHRONIC_ILLNESS = "chronic-illness", _("Chronic illness")
    OLDER_PERSON_ALONE = "older-person-alone", _("Older person alone")
    SEPARATED_CHILD = "separated-child", _("Separated or unaccompanied child")
    SURVIVOR_OF_VIOLENCE = "survivor-of-violence", _("Survivor of violence")
    TRAFFICKING_RISK = "trafficking-risk", _("At risk of trafficking")


class Household(models.Model):
    """People travelling together; links persons, holds no data of its own."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="households"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"household {self.id}"


class Person(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="people"
    )
    # Unique within a society: a record started from another society's card keeps its code.
    short_code = models.CharField(max_length=11)
    alias = EncryptedJSONField(null=True, blank=True)
    sex = models.CharField(max_length=12, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    age_band = models.CharField(max_length=6, choices=AgeBand.choices)
    nationality = models.CharField(max_length=2, blank=True)
    languages = models.JSONField(default=list, blank=True)
    population_group = models.CharField(
        max_length=16, choices=PopulationGroup.choices, default=PopulationGroup.ON_THE_MOVE
    )
    travel_group = models.CharField(
        max_length=20, choices=TravelGroup.choices, default=TravelGroup.ALONE
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    vulnerabilities = EncryptedJSONField(default=list)
    registered_at_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, related_name="registrations"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    # When a person was last seen is their latest encounter: derived, never stored twice.

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["national_society", "short_code"], name="one_short_code_per_society"
            )
        ]

    def __str__(self) -> str:
        return self.short_code


class EncounterQuerySet(models.QuerySet["Encounter"]):
    """Encounters are immutable in bulk too (deleting a person still removes theirs)."""

    def current(self) -> EncounterQuerySet:
        """The encounters that count (see ``is_current``)."""
        return self.filter(is_current())

    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("encounters are immutable; record a correction instead")

    def delete(self) -> NoReturn:
        raise PermissionError("encounters are immutable; record a correction instead")

    def stock_taken(self) -> int:
        """Clear ``stock_pending`` (``flows.stock_use`` took the stock of these encounters): a mark
        of work done after the encounter, not a change of what happened."""
        return super().update(stock_pending=False)


class Encounter(models.Model):
    """One visit of a person at a service point. Immutable: corrections are new encounters.

    A *voiding* encounter (``voids``) corrects another with nothing: the visit is withdrawn
    (recorded in error, rejected at its source) yet stays in the history. It is no visit
    itself and is never counted or carried on a card."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="encounters")
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, related_name="encounters"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When it was recorded (occurred_at may be earlier): indicator rollups follow this.
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    triage = models.CharField(max_length=6, choices=TriageColour.choices, blank=True)
    notes = EncryptedJSONField(null=True, blank=True)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    # A database default too: bulk loads insert rows with SQL of their own.
    voids = models.BooleanField(default=False, db_default=False)
    # Set in the encounter's own INSERT when its stock is still to be taken (the point's stock
    # follows one of its services, or it corrects another): ``flows.stock_use`` takes it later, for
    # many encounters at once, and clears it in the same transaction. Written with the
    # encounter, so a crash loses neither; never sent to a node (``people.sync``).
    stock_pending = models.BooleanField(default=False, db_default=False, editable=False)

    objects = EncounterQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["service_point", "occurred_at"]),
            # Only the few encounters waiting: the index stays the size of the backlog.
            models.Index(
                fields=["service_point", "recorded_at"],
                condition=Q(stock_pending=True),
                name="people_encounter_stock_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} at {self.service_point_id} {self.occurred_at:%Y-%m-%d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("encounters are immutable; record a correction instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("encounters are immutable; record a correction instead")

    def service_lines(self) -> list[EncounterService]:
        """The services delivered; those just recorded are kept, not read back."""
        recorded: list[EncounterService] | None = getattr(self, "_recorded_services", None)
        return recorded if recorded is not None else list(self.services.all())


def is_current() -> Q:
    """The encounters that count (indicators, daily counts derived from encounters, the card):
    no later encounter corrects them, and they are not the voiding of another. NOT EXISTS on
    the indexed ``corrects`` column: a LEFT JOIN made SQLite scan every encounter for each."""
    return Q(~Exists(Encounter.objects.filter(corrects_id=OuterRef("pk"))), voids=False)


class EncounterService(models.Model):
    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="services")
    service = models.CharField(max_length=32, choices=Service.choices)
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])

    def __str__(self) -> str:
        return f"{self.quantity} × {self.service}"


class HealthSummary(models.Model):
    """The current health picture that travels with the person. Every field is encrypted."""

    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, primary_key=True, related_name="health_summary"
    )
    allergies = EncryptedJSONField(default=list)
    conditions = EncryptedJSONField(default=list)
    # [{"name", "dose", "quantity", "days_supply", "dispensed_on"}]
    medicines = EncryptedJSONField(default=list)
    # {"weeks": int, "expected_date": "YYYY-MM-DD"} or null
    pregnancy = EncryptedJSONField(null=True, blank=True)
    # [{"measured_on", "weight_kg", "height_cm", "muac_mm"}]
    child_growth = EncryptedJSONField(default=list)
    # [{"vaccine", "given_on"}]
    vaccinations = EncryptedJSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    SENSITIVE_FIELDS = (
        "allergies",
        "conditions",
        "medicines",
        "pregnancy",
        "child_growth",
        "vaccinations",
    )

    def __str__(self) -> str:
        return f"health summary of {self.person_id}"


class FollowUp(models.Model):
    """A short message to the next service point: "needs insulin refill"."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="follow_ups")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups"
    )
    text = EncryptedJSONField()
    due = models.DateField(null=True, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at_point = models.ForeignKey(ServicePoint, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["done_at", "due", "-created_at"]

    def __str__(self) -> str:
        return f"follow-up {self.id}"


class ConsentPurpose(models.TextChoices):
    CARE = "care", _("Care at this National Society")
    SHARE_NETWORK = "share-network", _("Share with other National Societies on the route")
    SHARE_PARTNERS = "share-partners", _("Share with partner organisations")
    MESSAGING = "messaging", _("Be contacted by messaging")


class Consent(models.Model):
    """One consent given for one purpose; withdrawal takes effect at once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    wording_version = models.CharField(max_length=20)
    language = models.CharField(max_length=10)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at_point = models.ForeignKey(ServicePoint, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The serial of another society's card whose consent the person confirmed here, again and
    # in their language: a new consent of this society, never a copy of the card's.
    confirmed_from_card = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_active_consent_per_purpose",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} consent of {self.person_id}"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class ReservedShortCode(models.Model):
    """A short code the server set aside for one field node, which mints it offline.

    Two places never mint the same code: the server reserves each code once (unique here)
    and never draws a reserved code itself; a node only takes codes from its own block,
    refilled at each sync (``people.sync``). ``used`` is the node's own mark: it never travels
    down, so a pull never hands a node back a code it already gave to someone.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=11, unique=True)
    # The node (routecare.sync.Node) it is reserved for: an id, not a key, so that people
    # does not depend on the sync app.
    node_id = models.UUIDField(db_index=True)
    reserved_at = models.DateTimeField(default=timezone.now)
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.code
