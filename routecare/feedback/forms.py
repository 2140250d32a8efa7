"""Staff forms: recording what a person says, handling an item, and FAQ entries."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from routecare.core import fields
from routecare.core.languages import language_name_in
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.feedback.models import Category, ContactMethod, FaqEntry, Status
from routecare.orgs.models import NationalSociety, Network, ServicePoint

LANGUAGE_CHOICES = [(code, language_name_in(code, code)) for code in PERSON_LANGUAGES]


def about_choices(network: Network, *, public_only: bool, label: Any = str) -> list[Any]:
    """Every society of the network and its points, grouped by country, and RouteCare."""
    groups: list[Any] = [("general", label("general"))]
    points = ServicePoint.objects.filter(national_society__network=network).order_by("name")
    if public_only:
        points = points.filter(visibility=ServicePoint.Visibility.PUBLIC)
    by_society: dict[Any, list[tuple[str, str]]] = {}
    for point in points:
        by_society.setdefault(point.national_society_id, []).append(
            (f"point:{point.code}", point.name)
        )
    for society in NationalSociety.objects.filter(network=network).order_by("name"):
        options = [(f"society:{society.country_code}", label(society))]
        groups.append((society.name, options + by_society.get(society.pk, [])))
    return groups


class RecordFeedbackForm(forms.Form):
    """A volunteer writes down what a person says (in the person's language)."""

    about = forms.ChoiceField(label=_("About"))
    category = forms.ChoiceField(label=_("Kind"), choices=Category.choices)
    text = fields.FEEDBACK_TEXT.form_field(label=_("What the person says"), widget=forms.Textarea)
    language = forms.ChoiceField(label=_("Language of the text"), choices=LANGUAGE_CHOICES)
    contact_consent = forms.BooleanField(
        label=_("The person wants an answer and agreed to be contacted this way"), required=False
    )
    contact_method = forms.ChoiceField(
        label=_("How"), choices=[("", "—"), *ContactMethod.choices], required=False
    )
    contact_value = fields.CONTACT_VALUE.form_field(label=_("Where"))
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, network: Network, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["about"].choices = about_choices(  # type: ignore[attr-defined]
            network, public_only=False, label=_about_label
        )


def _about_label(value: Any) -> str:
    if value == "general":
        return str(_("RouteCare and the network in general"))
    return f"{value.name} ({_('the whole National Society')})"


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[c for c in Status.choices if c[0] != Status.NEW]
    )


class NoteForm(forms.Form):
    text = fields.FEEDBACK_NOTE.form_field(label=_("Internal note"), widget=forms.Textarea)


class ResponseForm(forms.Form):
    text = fields.FEEDBACK_ANSWER.form_field(label=_("Answer to the person"), widget=forms.Textarea)


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Assign to"), required=False)

    def __init__(self, *args: Any, choices: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = choices  # type: ignore[attr-defined]


class FaqForm(forms.Form):
    """An entry's texts in every language (empty languages are left out), tags, public."""

    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_(
            "Separated by commas: service codes, country codes, legal-information, safety."
        ),
    )
    public = forms.BooleanField(
        label=_("Also show to people on the move (public pages)"), required=False
    )

    def __init__(self, *args: Any, entry: FaqEntry | None = None, **kwargs: Any) -> None:
        if entry is not None and not kwargs.get("data") and not args:
            texts = {t.language: t for t in entry.texts.all()}
            initial = {"tags": ", ".join(entry.tags), "public": entry.public}
            for code in PERSON_LANGUAGES:
                if code in texts:
                    initial[f"question_{code}"] = texts[code].question
                    initial[f"answer_{code}"] = texts[code].answer
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        for code, name in LANGUAGE_CHOICES:
            self.fields[f"question_{code}"] = fields.FAQ_QUESTION.form_field(
                label=f"{_('Question')} · {name}", required=False
            )
            self.fields[f"answer_{code}"] = fields.FAQ_ANSWER.form_field(
                label=f"{_('Answer')} · {name}", widget=forms.Textarea(attrs={"rows": 4}),
            )  # fmt: skip

    def texts(self) -> dict[str, tuple[str, str]]:
        data = self.cleaned_data
        return {
            code: (data.get(f"question_{code}", ""), data.get(f"answer_{code}", ""))
            for code in PERSON_LANGUAGES
        }

    def tag_list(self) -> list[str]:
        return [tag for tag in self.cleaned_data.get("tags", "").split(",") if tag.strip()]


class FaqSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
