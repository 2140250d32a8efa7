"""The dashboard filters and the training form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.core import fields
from routecare.indicators import regional
from routecare.indicators.models import Granularity, TrainingAttendance, TrainingTopic
from routecare.indicators.selectors import Filters, View
from routecare.orgs.models import NationalSociety, Route, ServicePoint
from routecare.orgs.taxonomy import AgeBand, Sex
from routecare.people.models import PopulationGroup

DATE = forms.DateInput(attrs={"type": "date"})


class FilterForm(forms.Form):
    granularity = forms.ChoiceField(
        label=_("By"), choices=Granularity.choices, initial=Granularity.MONTH, required=False
    )
    start = forms.DateField(label=_("From"), required=False, widget=DATE)
    end = forms.DateField(label=_("To"), required=False, widget=DATE)
    society = forms.ModelChoiceField(
        label=_("Country"), queryset=NationalSociety.objects.none(), required=False
    )
    route = forms.ModelChoiceField(label=_("Route"), queryset=Route.objects.none(), required=False)
    point = forms.ModelChoiceField(
        label=_("Service point"), queryset=ServicePoint.objects.none(), required=False
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Sex.choices], required=False)
    age_band = forms.ChoiceField(
        label=_("Age band"), choices=[("", "—"), *AgeBand.choices], required=False
    )
    population_group = forms.ChoiceField(
        label=_("Group"), choices=[("", "—"), *PopulationGroup.choices], required=False
    )

    def __init__(self, view: View, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.view = view
        fields: Any = self.fields
        fields["society"].queryset = NationalSociety.objects.filter(
            pk__in=[s.pk for s in view.societies]
        )
        fields["route"].queryset = Route.objects.filter(pk__in=[r.pk for r in view.routes])
        fields["point"].queryset = ServicePoint.objects.filter(pk__in=[p.pk for p in view.points])
        if view.level != "network":
            del self.fields["society"]
        if view.level == "point":
            del self.fields["route"]
            del self.fields["point"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end comes before the start."))
        elif self.view.outsider:
            # Regional staff: the views protected together (indicators.regional).
            reason = regional.problem(_filters(data), timezone.localdate())
            if reason is not None:
                self.add_error(None, reason)
        return data

    def filters(self) -> Filters:
        """The valid filters (defaults for anything invalid)."""
        return _filters(self.cleaned_data if self.is_valid() else {})


def _filters(data: dict[str, Any]) -> Filters:
    return Filters(
        granularity=data.get("granularity") or Granularity.MONTH,
        start=data.get("start"),
        end=data.get("end"),
        society=data.get("society"),
        route=data.get("route"),
        point=data.get("point"),
        sex=data.get("sex") or "",
        age_band=data.get("age_band") or "",
        population_group=data.get("population_group") or "",
    )


class TrainingForm(forms.Form):
    title = fields.TRAINING_TITLE.form_field(label=_("Training"))
    topic = forms.ChoiceField(label=_("Topic"), choices=TrainingTopic.choices)
    day = forms.DateField(label=_("Day"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for role, role_label in TrainingAttendance.Role.choices:
            for sex, sex_label in Sex.choices:
                self.fields[f"n_{role}_{sex}"] = forms.IntegerField(
                    label=f"{role_label} · {sex_label}", min_value=0, max_value=10_000,
                    required=False,
                )  # fmt: skip

    def attendance(self) -> dict[tuple[str, str], int]:
        return {
            (role, sex): self.cleaned_data.get(f"n_{role}_{sex}") or 0
            for role in TrainingAttendance.Role.values
            for sex in Sex.values
            if self.cleaned_data.get(f"n_{role}_{sex}")
        }


class ReportForm(forms.Form):
    """Which month (this month when not given) and in which language (the page's)."""

    month = forms.DateField(
        label=_("Month"),
        input_formats=["%Y-%m"],
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}),
    )
    lang = forms.ChoiceField(
        label=_("Language"),
        choices=[("en", "English"), ("es", "Español"), ("fr", "Français"), ("ar", "العربية")],
        required=False,
    )
