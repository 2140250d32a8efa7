from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from routecare.core import fields
from routecare.core.languages import language_choices, language_name_in
from routecare.orgs.actions import SOCIETY_STAFF_ROLES
from routecare.orgs.models import (
    POINT_ADDRESS,
    POINT_DIRECTIONS,
    POINT_NAME,
    PUBLIC_LANGUAGES,
    Role,
    ServicePoint,
)
from routecare.orgs.taxonomy import Service

DAYS = [
    _("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"),
    _("Sunday"),
]  # fmt: skip


class ServicePointForm(forms.ModelForm):  # type: ignore[type-arg]
    services = forms.MultipleChoiceField(
        label=_("Services offered"),
        choices=Service.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages spoken by staff"), required=False, widget=forms.CheckboxSelectMultiple
    )
    # The same definition as the API's change of a point (directory/api.py).
    phone = fields.PHONE.form_field(label=_("Phone"))
    whatsapp = fields.PHONE.form_field(label=_("WhatsApp"))
    address = POINT_ADDRESS.form_field(label=_("Address"))
    directions = POINT_DIRECTIONS.form_field(
        label=_("How to get there"),
        help_text=_("For people on the move: landmarks, which entrance, what to look for."),
    )

    class Meta:
        model = ServicePoint
        fields = [
            "name", "code", "kind", "status", "visibility", "latitude", "longitude", "admin1_code",
            "address",
            "directions", "services", "languages", "capacity", "phone", "whatsapp",
            "last_verified",
        ]  # fmt: skip
        widgets = {"last_verified": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = language_choices()  # type: ignore[attr-defined]
        hours = {row["day"]: row for row in (self.instance.opening_hours or [])}
        for day, label in enumerate(DAYS):
            row = hours.get(day, {})
            self.fields[f"opens_{day}"] = forms.TimeField(
                label=label, required=False, initial=row.get("opens"),
                widget=forms.TimeInput(attrs={"type": "time"}),
            )  # fmt: skip
            self.fields[f"closes_{day}"] = forms.TimeField(
                label=_("closes"), required=False, initial=row.get("closes"),
                widget=forms.TimeInput(attrs={"type": "time"}),
            )  # fmt: skip

        # The public name, address and directions in each language of the public pages.
        translations = self.instance.translations or {}
        for language in PUBLIC_LANGUAGES:
            given = translations.get(language) or {}
            for name, definition, label in (
                ("name", POINT_NAME, _("Name")),
                ("address", POINT_ADDRESS, _("Address")),
                ("directions", POINT_DIRECTIONS, _("How to get there")),
            ):
                self.fields[f"{name}_{language}"] = definition.form_field(
                    label=format_lazy("{} ({})", label, language_name_in(language, language)),
                    initial=given.get(name, ""),
                )

    def main_fields(self) -> list[forms.BoundField]:
        """The fields shown first: neither opening hours nor translations."""
        grouped = ("opens_", "closes_", *(f"_{language}" for language in PUBLIC_LANGUAGES))
        return [
            field
            for field in self.visible_fields()
            if not field.name.startswith(grouped[:2]) and not field.name.endswith(grouped[2:])
        ]

    def translation_fields(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """Each public language's name (in itself), code and fields, for the form's groups."""
        return [
            (
                language_name_in(language, language),
                language,
                [self[f"{name}_{language}"] for name in ("name", "address", "directions")],
            )
            for language in PUBLIC_LANGUAGES
        ]

    def hour_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"opens_{day}"], self[f"closes_{day}"]) for day in range(7)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        opening_hours = []
        for day in range(7):
            opens, closes = cleaned.get(f"opens_{day}"), cleaned.get(f"closes_{day}")
            if bool(opens) != bool(closes):
                self.add_error(f"closes_{day}", _("Give both the opening and the closing time."))
            elif opens and closes:
                if closes <= opens:
                    self.add_error(f"closes_{day}", _("Closing comes after opening."))
                opening_hours.append(
                    {
                        "day": day,
                        "opens": opens.strftime("%H:%M"),
                        "closes": closes.strftime("%H:%M"),
                    }
                )
        self.instance.opening_hours = opening_hours
        translations = {}
        for language in PUBLIC_LANGUAGES:
            texts = {
                name: cleaned[f"{name}_{language}"].strip()
                for name in ("name", "address", "directions")
                if (cleaned.get(f"{name}_{language}") or "").strip()
            }
            if texts:
                translations[language] = texts
        self.instance.translations = translations
        return cleaned


class StaffRoleForm(forms.Form):
    """Role and places of work, shared by adding and editing a staff member."""

    role = forms.ChoiceField(
        label=_("Role"), choices=[(r, Role(r).label) for r in SOCIETY_STAFF_ROLES]
    )
    service_points = forms.ModelMultipleChoiceField(
        label=_("Works at (none: any point)"),
        queryset=ServicePoint.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, points: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_points"].queryset = points  # type: ignore[attr-defined]


class StaffCreateForm(StaffRoleForm):
    username = forms.RegexField(
        label=_("User name"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("Letters, digits and . @ + - _ only.")},
    )
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput)
    field_order = ["username", "password", "role", "service_points"]

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("That user name is taken."))
        return username


# Designations a focal point gives staff of the society: who receives restricted referrals and
# sensitive feedback.
DESIGNATIONS = [
    ("protection", _("Protection role: handles protection referrals")),
    ("rfl_focal_point", _("Restoring family links focal point")),
    ("safeguarding", _("Safeguarding focal point: receives sensitive feedback")),
]


class StaffEditForm(StaffRoleForm):
    active = forms.BooleanField(label=_("May sign in"), required=False)
    designations = forms.MultipleChoiceField(
        label=_("Designations"),
        choices=DESIGNATIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    field_order = ["role", "active", "designations", "service_points"]
