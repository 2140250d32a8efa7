from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from routecare.core.languages import language_name_in
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.retention.models import MAX_MONTHS, MIN_MONTHS


class PolicyForm(forms.Form):
    inactive_months = forms.IntegerField(
        label=_("Delete the records of people not seen for (months)"),
        required=False,
        min_value=MIN_MONTHS,
        max_value=MAX_MONTHS,
        help_text=_(
            "Counted from the first day of the month. Leave empty to keep records until a person "
            "asks for erasure."
        ),
    )
    purge_enabled = forms.BooleanField(
        label=_("Delete automatically every night (otherwise the nightly run only counts)"),
        required=False,
    )


class RequestForm(forms.Form):
    code = forms.CharField(
        label=_("The person's code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class ReportLanguageForm(forms.Form):
    person = forms.UUIDField(widget=forms.HiddenInput)
    language = forms.ChoiceField(
        label=_("Language of the report"),
        choices=lambda: [(code, language_name_in(code, code)) for code in PERSON_LANGUAGES],
    )


class EraseForm(forms.Form):
    person = forms.UUIDField(widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("Type the person's code again to erase everything held about them"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
