"""Networks, National Societies (the tenants), service points, routes and staff roles."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from routecare.core import fields
from routecare.orgs.taxonomy import Service


class Network(models.Model):
    """National Societies along a route that agree to share cards, alerts and aggregates."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    # Names the network in a care card's header; given when its first card key is made.
    card_number = models.PositiveSmallIntegerField(unique=True, null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class NationalSociety(models.Model):
    """A tenant: owns its service points, staff and every personal record it creates."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="societies")
    name = models.CharField(max_length=160)
    country_code = models.CharField(
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use the two-letter ISO 3166 code."))],
        help_text=_("ISO 3166-1 alpha-2 code, e.g. HN"),
    )
    # IANA time zone of the society's service points: "open now" is their local time.
    time_zone = models.CharField(max_length=40, default="UTC")
    # Whether the public pages for this country list service points of other countries along
    # the routes. Some societies fear a public onward map encourages migration or smugglers.
    show_onward_points = models.BooleanField(
        default=True,
        help_text=_("Show onward (other-country) service points to people in our country."),
    )
    # The society's name as people read it in the public pages' languages ({"es": "Cruz Roja
    # Hondureña"}); a language left out shows ``name``.
    names = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'The name in the languages of the public pages, e.g. {"es": "Cruz Roja Hondureña"}.'
        ),
    )

    class Meta:
        verbose_name_plural = "national societies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone, e.g. America/Tegucigalpa.")})
        problem = names_problem(self.names)
        if problem is not None:
            raise ValidationError({"names": problem})

    def public_name(self, language: str) -> str:
        """The society's name in ``language``, or its default name."""
        name = (self.names or {}).get(language) if isinstance(self.names, dict) else None
        return name if isinstance(name, str) and name else self.name


# What a point tells people on the move about where it is, in its default words and in each
# language of the public pages (``ServicePoint.translations``); the same definitions check the
# staff form, the API and the model.
POINT_NAME = fields.Text(160)
POINT_ADDRESS = fields.Text(300)
POINT_DIRECTIONS = fields.Text(1000, multiline=True)
PUBLIC_TEXTS = {"name": POINT_NAME, "address": POINT_ADDRESS, "directions": POINT_DIRECTIONS}
# The languages of the public pages (core.person_texts.PERSON_LANGUAGES; not imported: the
# person texts import the taxonomy beside this module).
PUBLIC_LANGUAGES = ("en", "es", "fr", "ar", "fa", "ps", "ur", "ht")


class ServicePoint(models.Model):
    class Kind(models.TextChoices):
        FIXED_HSP = "fixed-hsp", _("Fixed humanitarian service point")
        MOBILE_HSP = "mobile-hsp", _("Mobile humanitarian service point")
        BRANCH = "branch", _("Branch")
        TRANSIT_CENTRE = "transit-centre", _("Transit or reception centre presence")
        PARTNER = "partner", _("Partner organisation")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        TEMPORARILY_CLOSED = "temporarily-closed", _("Temporarily closed")
        CLOSED = "closed", _("Closed")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public: shown to people on the move")
        NETWORK = "network", _("Network: staff of the network only")
        INTERNAL = "internal", _("Internal: own National Society only")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="service_points"
    )
    code = models.SlugField(
        max_length=32, unique=True, help_text=_("Short stable code, e.g. hnd-danli")
    )
    name = models.CharField(max_length=160)
    # Where to find it, in words: the coordinates alone do not help someone without a map.
    address = models.CharField(max_length=300, blank=True)
    directions = models.TextField(max_length=1000, blank=True)
    # The public name, address and directions in other languages, shown on the public pages
    # of that language instead of the default ones: {"es": {"name": "…", "address": "…"}}.
    translations = models.JSONField(default=dict, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FIXED_HSP)
    # The ISO 3166-2 code of the first-level division it is in (e.g. HN-EP), when known: the
    # #adm1 column of the HXL exports. Left empty rather than guessed.
    admin1_code = models.CharField(
        max_length=6,
        blank=True,
        validators=[
            RegexValidator(r"^[A-Z]{2}-[A-Z0-9]{1,3}$", _("Use the ISO 3166-2 code, e.g. HN-EP."))
        ],
        help_text=_("ISO 3166-2 code of the department or province, e.g. HN-EP (optional)"),
    )
    latitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    services = models.JSONField(default=list, blank=True)
    opening_hours = models.JSONField(
        default=list,
        blank=True,
        help_text=_('List of {"day": 0-6 (Monday = 0), "opens": "08:00", "closes": "18:00"}'),
    )
    languages = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.NETWORK
    )
    capacity = models.PositiveIntegerField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    whatsapp = models.CharField(max_length=32, blank=True)
    last_verified = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = set(self.services or []) - set(Service.values)
        if unknown:
            raise ValidationError({"services": _("Unknown service codes: %s") % sorted(unknown)})
        if not isinstance(self.opening_hours, list) or not all(
            valid_period(period) for period in self.opening_hours
        ):
            raise ValidationError(
                {
                    "opening_hours": _(
                        'Give opening hours as {"day": 0–6 (Monday = 0), "opens": "08:00", '
                        '"closes": "18:00"}.'
                    )
                }
            )

        for name in ("address", "directions"):
            PUBLIC_TEXTS[name].check(getattr(self, name) or "", name)
        problem = translations_problem(self.translations)
        if problem is not None:
            raise ValidationError({"translations": problem})

    def public_text(self, field: str, language: str) -> str:
        """The point's name, address or directions in ``language``, or the default ones."""
        translated = (self.translations or {}).get(language)
        if isinstance(translated, dict) and translated.get(field):
            return str(translated[field])
        return str(getattr(self, field) or "")

    def service_labels(self) -> list[str]:
        labels = dict(Service.choices)
        return [str(labels[code]) for code in self.services if code in labels]


def translations_problem(value: object) -> str | None:
    """Why a point's translations cannot be stored (a sentence for staff), or None."""
    if not isinstance(value, dict):
        return str(_('Give translations as {"es": {"name": "…", "address": "…"}}.'))
    for language, texts in value.items():
        if language not in PUBLIC_LANGUAGES:
            return str(
                _("%(code)s is not a language of the public pages (%(languages)s).")
                % {"code": language, "languages": ", ".join(PUBLIC_LANGUAGES)}
            )
        if not isinstance(texts, dict) or not set(texts) <= set(PUBLIC_TEXTS):
            return str(_('Give translations as {"es": {"name": "…", "address": "…"}}.'))
        for field, text in texts.items():
            problem = (
                PUBLIC_TEXTS[field].problem(text)
                if isinstance(text, str)
                else str(_('Give translations as {"es": {"name": "…", "address": "…"}}.'))
            )
            if problem is not None:
                return f"{language}, {field}: {problem}"
    return None


def names_problem(value: object) -> str | None:
    """Why a society's names cannot be stored (a sentence for staff), or None."""
    if not isinstance(value, dict):
        return str(_('Give the names as {"es": "Cruz Roja Hondureña"}.'))
    for language, name in value.items():
        if language not in PUBLIC_LANGUAGES:
            return str(
                _("%(code)s is not a language of the public pages (%(languages)s).")
                % {"code": language, "languages": ", ".join(PUBLIC_LANGUAGES)}
            )
        problem = (
            POINT_NAME.problem(name)
            if isinstance(name, str)
            else str(_('Give the names as {"es": "Cruz Roja Hondureña"}.'))
        )
        if problem is not None:
            return f"{language}: {problem}"
    return None


def valid_period(period: object) -> bool:
    if not isinstance(period, dict) or set(period) != {"day", "opens", "closes"}:
        return False
    day = period["day"]
    if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
        return False
    for key in ("opens", "closes"):
        value = period[key]
        if not isinstance(value, str) or len(value) != 5:
            return False
        try:
            dt.time.fromisoformat(value)
        except ValueError:
            return False
    return bool(period["opens"] != period["closes"])


class Route(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="routes")
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=160)

    def __str__(self) -> str:
        return self.name


class RouteStop(models.Model):
    """One stop of a route, with the typical travel time from the stop before it."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveSmallIntegerField()
    service_point = models.ForeignKey(
        ServicePoint, on_delete=models.PROTECT, related_name="route_stops"
    )
    hours_from_previous = models.DecimalField(
        max_digits=6, decimal_places=1, default=0, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["route", "position"]
        constraints = [
            models.UniqueConstraint(fields=["route", "position"], name="route_stop_position")
        ]

    def __str__(self) -> str:
        return f"{self.route} #{self.position}: {self.service_point}"


class Role(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    COORDINATOR = "coordinator", _("Service point coordinator")
    FOCAL_POINT = "focal_point", _("National Society focal point")
    REGIONAL = "regional", _("IFRC regional cluster")
    PARTNER = "partner", _("Partner organisation")
    SYSADMIN = "sysadmin", _("System administrator")


class Membership(models.Model):
    """A staff member's role: in one National Society, or across a network for `regional`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    national_society = models.ForeignKey(
        NationalSociety, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    network = models.ForeignKey(
        Network, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    service_points = models.ManyToManyField(
        ServicePoint,
        blank=True,
        related_name="staff",
        help_text=_("Where this person works; empty means any point of the society."),
    )
    # Protection referrals (GBV, trafficking, unaccompanied children) are for these staff only.
    protection = models.BooleanField(
        default=False, help_text=_("Holds a protection role: handles protection referrals.")
    )
    # Restoring family links referrals go to the society's RFL focal points.
    rfl_focal_point = models.BooleanField(
        default=False, help_text=_("Restoring family links focal point of the society.")
    )
    # Sensitive feedback (abuse, exploitation, discrimination by staff) reaches these staff
    # only: of the society concerned, and of the network's IFRC cluster.
    safeguarding = models.BooleanField(
        default=False,
        help_text=_("Safeguarding focal point: receives sensitive feedback."),
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.national_society is not None and not self.network_id:
            self.network_id = self.national_society.network_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        society_roles = {Role.VOLUNTEER, Role.COORDINATOR, Role.FOCAL_POINT, Role.PARTNER}
        if self.role in society_roles and self.national_society_id is None:
            raise ValidationError({"national_society": _("This role belongs to a society.")})
        if self.role == Role.REGIONAL and self.network_id is None:
            raise ValidationError({"network": _("A regional user belongs to a network.")})
