"""Forms: the person's own (public, parsed here, checked by ``actions.check_answers``) and the
volunteer's (the people app's registration form, prefilled)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from routecare.core import fields, person_texts
from routecare.core.languages import ROUTE_LANGUAGES
from routecare.orgs.taxonomy import AgeBand, Service, Sex
from routecare.people.forms import RegisterPersonForm
from routecare.people.models import TravelGroup
from routecare.preregistration.actions import PUBLIC_PURPOSES, Answers
from routecare.preregistration.selectors import Opened


class PreRegistrationForm(forms.Form):
    """The public form's fields, as posted (with or without JavaScript)."""

    sex = forms.ChoiceField(choices=Sex.choices)
    age_band = forms.ChoiceField(choices=AgeBand.choices, required=False)
    birth_year = forms.IntegerField(
        required=False, validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    languages = forms.MultipleChoiceField(
        choices=[(code, code) for code in ROUTE_LANGUAGES], required=False
    )
    travel_group = forms.ChoiceField(choices=TravelGroup.choices)
    services = forms.MultipleChoiceField(choices=Service.choices, required=False)
    consents = forms.MultipleChoiceField(choices=[(p, p) for p in PUBLIC_PURPOSES])
    allergies = fields.ALLERGIES.form_field()
    medicines = fields.MEDICINE_NAMES.form_field()
    phone = fields.PHONE.form_field(required=False)
    form_token = forms.CharField(max_length=64)

    def answers(self, language: str) -> Answers:
        data = self.cleaned_data
        return Answers(
            language=language,
            sex=data["sex"],
            age_band=data["age_band"],
            birth_year=data["birth_year"],
            languages=data["languages"],
            travel_group=data["travel_group"],
            services=data["services"],
            consents=data["consents"],
            allergies=data["allergies"],
            medicines=data["medicines"],
            phone=data["phone"].strip(),
        )


class OpenForm(forms.Form):
    """A code typed, or scanned into the box by the camera; or a photo of the QR."""

    code = forms.CharField(
        label=_("Pre-registration code"),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "P-7K3M-9Q4",
                "data-scan-field": "",
            }
        ),
    )
    photo = forms.FileField(label=_("Or a photo of the QR code"), required=False)


class ConfirmForm(RegisterPersonForm):
    """The registration form with the pre-registration's answers, for the volunteer to
    confirm with the person (and correct), and the code it came with."""

    code = forms.CharField(max_length=40, widget=forms.HiddenInput)
    allergies = fields.ALLERGIES.form_field(label=_("Allergies (one per line)"))
    medicines = fields.MEDICINE_NAMES.form_field(
        label=_("Medicines the person takes (one per line)")
    )

    @classmethod
    def prefilled(cls, opened: Opened) -> ConfirmForm:
        first = person_texts.person_language(opened.languages, opened.language)
        initial: dict[str, Any] = {
            "code": opened.code, "sex": opened.sex, "age_band": opened.age_band,
            "birth_year": opened.birth_year, "travel_group": opened.travel_group,
            "person_language": first,
            "languages": [code for code in opened.languages if code != first],
            "consents": opened.consents, "consent_shown": True,
            "consent_language": opened.language,
            "allergies": opened.allergies, "medicines": opened.medicines,
        }  # fmt: skip
        return cls(initial=initial)
