"""Forms of the cash pages. They parse; the actions decide and write."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.cash import identity
from routecare.cash.actions import ROUND_NAME
from routecare.cash.models import Decision
from routecare.core import fields
from routecare.orgs.models import NationalSociety
from routecare.orgs.taxonomy import Sex

# Names and dates of birth: never offered again by the browser, never corrected by it.
_PRIVATE = {"autocomplete": "off", "autocorrect": "off", "spellcheck": "false"}


class RoundForm(forms.Form):
    name = ROUND_NAME.form_field(label=_("Name of the round"))
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(
        label=_("Amount per person"), max_digits=12, decimal_places=2, min_value=0
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, min_length=3, help_text=_("ISO 4217, e.g. USD or HNL")
    )
    network_wide = forms.BooleanField(
        label=_("A round of the whole network (focal points only)"), required=False
    )
    participants = forms.MultipleChoiceField(
        label=_("National Societies taking part"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args: Any, network_id: uuid.UUID | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        societies = NationalSociety.objects.filter(network_id=network_id) if network_id else []
        self.fields["participants"].choices = [  # type: ignore[attr-defined]
            (str(s.pk), s.name) for s in societies
        ]

    def clean_currency(self) -> str:
        return str(self.cleaned_data["currency"]).upper()

    def participant_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(value) for value in self.cleaned_data["participants"]]


def _two_letters(value: str) -> None:
    problem = identity.name_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="name")


def _name_field(label: Any) -> forms.CharField:
    """A name part: the definition's character rules, then at least two letters."""
    field = identity.GIVEN_NAMES.form_field(label=label, widget=forms.TextInput(attrs=_PRIVATE))
    field.validators.append(_two_letters)
    return field


class EnrolForm(forms.Form):
    """What is read to encode a person; ``code`` only when the person is not known yet."""

    code = fields.SHORT_CODE_TEXT.form_field(
        label=_("The person's short code"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    given_names = _name_field(_("Given names"))
    surnames = _name_field(_("Surnames"))
    birth_date = forms.DateField(
        label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date", **_PRIVATE})
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)

    def __init__(self, *args: Any, with_code: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_code:
            self.fields["code"].required = True
        else:
            del self.fields["code"]

    def clean_birth_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["birth_date"]
        problem = identity.birth_date_problem(day, timezone.now().date())
        if problem is not None:
            raise ValidationError(problem, code="birth_date")
        return day


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Your decision"), choices=Decision.choices, widget=forms.RadioSelect
    )


class DeleteRoundForm(forms.Form):
    typed_name = forms.CharField(label=_("Type the round's name to delete it"), max_length=120)
