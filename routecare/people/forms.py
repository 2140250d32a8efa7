"""Forms of the staff pages. They parse and validate input; the actions decide and write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.core import fields, person_texts
from routecare.core.languages import (
    country_choices,
    language_choices,
    language_name,
    language_name_in,
)
from routecare.orgs.taxonomy import AgeBand, Service, Sex, TriageColour, Urgency
from routecare.people.consent import WORDING, wording_for_person
from routecare.people.models import ConsentPurpose, PopulationGroup, TravelGroup, Vulnerability


def _current_year() -> int:
    return timezone.now().year


class RegisterPersonForm(forms.Form):
    """What is asked up front, all in one screen: sex, age, who the person travels with, their
    language, and consent. Nothing about the person is preselected: a default answer gets
    recorded by accident (families and unaccompanied minors recorded as alone)."""

    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    # Required as "an age band or a birth year" (clean); the page marks it required.
    age_band = forms.ChoiceField(
        label=_("Age"), choices=AgeBand.choices, widget=forms.RadioSelect, required=False
    )
    birth_year = forms.IntegerField(
        label=_("or birth year"),
        required=False,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 1900, "max": 2100}),
    )
    travel_group = forms.ChoiceField(
        label=_("Travelling"),
        choices=TravelGroup.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _(
                "Say whether the person travels alone, with family, or is an unaccompanied minor."
            )
        },
    )
    person_language = forms.ChoiceField(
        label=_("The person's language"),
        error_messages={"required": _("Choose the language the person understands best.")},
    )
    population_group = forms.ChoiceField(
        label=_("Group (if not a person on the move)"),
        choices=PopulationGroup.choices,
        widget=forms.RadioSelect,
        required=False,  # most people are on the move: the default when not answered
    )
    nationality = forms.ChoiceField(label=_("Nationality"), required=False)
    languages = forms.MultipleChoiceField(
        label=_("Other languages spoken"), required=False, widget=forms.CheckboxSelectMultiple
    )
    alias = fields.ALIAS.form_field(label=_("Initials or alias (optional, never the full name)"))
    vulnerabilities = forms.MultipleChoiceField(
        label=_("Needs special attention"),
        choices=Vulnerability.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consents = forms.MultipleChoiceField(
        label=_("The person agrees to"),
        choices=ConsentPurpose.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Care consent is needed to keep a record.")},
    )
    consent_shown = forms.BooleanField(
        label=_("Show the consent in the person's language"), required=False
    )
    consent_language = forms.ChoiceField(
        label=_("Language the consent was explained in"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["nationality"].choices = [("", "—"), *country_choices()]  # type: ignore[attr-defined]
        languages = language_choices()
        self.fields["languages"].choices = languages  # type: ignore[attr-defined]
        self.fields["consent_language"].choices = languages  # type: ignore[attr-defined]
        self.fields["person_language"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((code, _person_language_label(code)) for code in person_texts.PERSON_LANGUAGES),
        ]
        # An age band or a birth year: the browser asks for a band until a year is typed.
        self.fields["age_band"].widget.attrs["required"] = True
        self.consent_wording = {code: WORDING[code] for code in ConsentPurpose.values}
        # Every person language's sentences are on the page; the switch shows the chosen one.
        self.person_wording = [
            (
                code,
                person_texts.is_rtl(code),
                person_texts.text("consent_intro", code),
                wording_for_person(code),
            )
            for code in person_texts.PERSON_LANGUAGES
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        birth_year = cleaned.get("birth_year")
        if birth_year is not None and not _current_year() - 110 <= birth_year <= _current_year():
            self.add_error("birth_year", _("Enter a realistic birth year."))
        if birth_year is None and not cleaned.get("age_band"):
            self.add_error("age_band", _("Give a birth year or an age band."))
        if ConsentPurpose.CARE not in cleaned.get("consents", []):
            self.add_error("consents", _("Care consent is needed to keep a record."))
        language = cleaned.get("person_language")
        if language and (cleaned.get("consent_shown") or not cleaned.get("consent_language")):
            # The wording was shown in the person's language: that is the language recorded.
            cleaned["consent_language"] = language
        return cleaned

    def spoken_languages(self) -> list[str]:
        """The person's language first, then the others they speak."""
        first = self.cleaned_data["person_language"]
        return [first, *(code for code in self.cleaned_data["languages"] if code != first)]

    def registration(self) -> dict[str, Any]:
        """``actions.register_person``'s arguments from a valid form (a household apart)."""
        data = self.cleaned_data
        return {
            "sex": data["sex"],
            "birth_year": data["birth_year"],
            "age_band": data["age_band"],
            "nationality": data["nationality"],
            "languages": self.spoken_languages(),
            "travel_group": data["travel_group"],
            "population_group": data["population_group"] or PopulationGroup.ON_THE_MOVE,
            "alias": data["alias"],
            "vulnerabilities": data["vulnerabilities"],
            "consents": data["consents"],
            "consent_language": data["consent_language"],
        }


def _person_language_label(code: str) -> str:
    """The language's name for the volunteer, and as its speakers write it."""
    local, own = language_name(code), language_name_in(code, code)
    return local if local == own else f"{local} · {own}"


class FindPersonForm(forms.Form):
    code = forms.CharField(
        label=_("Short code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class EncounterForm(forms.Form):
    """Services are number inputs named ``service-<code>``; the rest are ordinary fields."""

    triage = forms.ChoiceField(
        label=_("Triage"),
        choices=[("", _("Not triaged")), *TriageColour.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    notes = fields.ENCOUNTER_NOTES.form_field(label=_("Notes (no names, no documents)"))
    follow_up_text = fields.FOLLOW_UP_TEXT.form_field(
        label=_("Message to the next service point (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    follow_up_due = forms.DateField(
        label=_("Follow-up due by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    follow_up_urgency = forms.ChoiceField(
        label=_("Urgency"), choices=Urgency.choices, initial=Urgency.ROUTINE, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, label in Service.choices:
            self.fields[f"service-{code}"] = forms.IntegerField(
                label=label,
                required=False,
                min_value=0,
                max_value=10000,
                widget=forms.NumberInput(attrs={"min": 0, "max": 10000, "inputmode": "numeric"}),
            )

    def service_fields(self) -> list[forms.BoundField]:
        return [self[f"service-{code}"] for code in Service.values]

    def services(self) -> list[tuple[str, int]]:
        return [
            (code, self.cleaned_data[f"service-{code}"])
            for code in Service.values
            if self.cleaned_data.get(f"service-{code}")
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not self.services():
            raise forms.ValidationError(_("Enter a quantity for at least one service delivered."))
        due = cleaned.get("follow_up_due")
        problem = fields.FOLLOW_UP_DUE.problem_now(due)
        if problem is not None:
            self.add_error("follow_up_due", problem)
        if due and not cleaned.get("follow_up_text"):
            self.add_error("follow_up_text", _("Write what the next point should do."))
        return cleaned


class HealthSummaryForm(forms.Form):
    allergies = fields.ALLERGIES.form_field(label=_("Allergies (one per line)"))
    conditions = fields.CONDITIONS.form_field(label=_("Chronic conditions (one per line)"))
    pregnancy_weeks = forms.IntegerField(
        label=_("Pregnancy: weeks"), required=False, min_value=1, max_value=45
    )
    pregnancy_expected = forms.DateField(
        label=_("Expected date of delivery"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    growth_weight_kg = forms.DecimalField(
        label=_("Child growth: weight (kg)"),
        required=False,
        min_value=0,
        max_value=200,
        decimal_places=2,
    )
    growth_height_cm = forms.DecimalField(
        label=_("Height (cm)"), required=False, min_value=0, max_value=250, decimal_places=1
    )
    growth_muac_mm = forms.IntegerField(
        label=_("MUAC (mm)"), required=False, min_value=50, max_value=400
    )
    vaccine = fields.VACCINE.form_field(label=_("Vaccination given today"), required=False)

    def clean_pregnancy_expected(self) -> dt.date | None:
        expected: dt.date | None = self.cleaned_data.get("pregnancy_expected")
        fields.EXPECTED_DELIVERY.validate_now(expected)
        return expected

    def initial_from(self, summary: Any) -> None:
        self.initial.update(
            allergies="\n".join(summary.allergies or []),
            conditions="\n".join(summary.conditions or []),
            pregnancy_weeks=(summary.pregnancy or {}).get("weeks"),
            pregnancy_expected=(summary.pregnancy or {}).get("expected_date"),
        )

    def changes(self, summary: Any) -> dict[str, Any]:
        """The health summary fields this submission sets."""
        data = self.cleaned_data
        today = timezone.now().date().isoformat()
        changes: dict[str, Any] = {
            "allergies": data["allergies"],
            "conditions": data["conditions"],
            "pregnancy": (
                {
                    "weeks": data["pregnancy_weeks"],
                    "expected_date": (
                        data["pregnancy_expected"].isoformat()
                        if data["pregnancy_expected"]
                        else None
                    ),
                }
                if data["pregnancy_weeks"] or data["pregnancy_expected"]
                else None
            ),
        }
        growth = {
            key: (float(data[f"growth_{key}"]) if data[f"growth_{key}"] is not None else None)
            for key in ("weight_kg", "height_cm", "muac_mm")
        }
        if any(value is not None for value in growth.values()):
            changes["child_growth"] = [
                *(summary.child_growth or []),
                {"measured_on": today, **growth},
            ]
        if data["vaccine"].strip():
            changes["vaccinations"] = [
                *(summary.vaccinations or []),
                {"vaccine": data["vaccine"].strip(), "given_on": today},
            ]
        return changes


class MedicineForm(forms.Form):
    name = fields.MEDICINE_NAME.form_field(label=_("Medicine"), required=False)
    dose = fields.MEDICINE_DOSE.form_field(label=_("Dose"))
    quantity = forms.IntegerField(
        label=_("Quantity dispensed"), required=False, min_value=0, max_value=10000
    )
    days_supply = forms.IntegerField(
        label=_("Days of supply"), required=False, min_value=0, max_value=366
    )
    dispensed_on = forms.DateField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        has_details = any(cleaned.get(key) for key in ("dose", "quantity", "days_supply"))
        if has_details and not cleaned.get("name"):
            self.add_error("name", _("Name the medicine."))
        problem = fields.DISPENSED_ON.problem_now(cleaned.get("dispensed_on"))
        if problem is not None:
            self.add_error(None, problem)
        return cleaned


MedicineFormSet = forms.formset_factory(MedicineForm, extra=2, max_num=20, validate_max=True)


def medicines_from(formset: Any, today: dt.date) -> list[dict[str, Any]]:
    medicines = []
    for form in formset.forms:
        data = form.cleaned_data
        if data.get("name"):
            medicines.append(
                {
                    "name": data["name"].strip(),
                    "dose": data.get("dose", "").strip(),
                    "quantity": data.get("quantity"),
                    "days_supply": data.get("days_supply"),
                    "dispensed_on": (data.get("dispensed_on") or today).isoformat(),
                }
            )
    return medicines


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=ConsentPurpose.choices)
    decision = forms.ChoiceField(choices=[("give", "give"), ("withdraw", "withdraw")])
    language = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices()  # type: ignore[attr-defined]
