"""Daily counts and alerts for coordinators; the alert panel is on every staff dashboard."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core import fields
from routecare.core.http import add_validation_errors, posted
from routecare.core.languages import language_name_in
from routecare.core.person_texts import PERSON_LANGUAGES, is_rtl
from routecare.flows import actions, selectors
from routecare.flows.forecast import forecast_point
from routecare.flows.models import AlertKind, Severity
from routecare.orgs.models import NationalSociety, Route
from routecare.orgs.taxonomy import AgeBand, Sex


class CountForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    people = forms.IntegerField(
        label=gettext_lazy("People assisted"), min_value=0, max_value=100_000
    )
    new_arrivals = forms.IntegerField(
        label=gettext_lazy("New arrivals"), min_value=0, max_value=100_000, required=False
    )
    departures = forms.IntegerField(
        label=gettext_lazy("Left onward"), min_value=0, max_value=100_000, required=False
    )
    staff_on_duty = forms.IntegerField(
        label=gettext_lazy("Staff and volunteers on duty"), min_value=0, max_value=10_000,
        required=False,
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for sex in Sex.values:
            for band in AgeBand.values:
                self.fields[f"n_{sex}_{band}"] = forms.IntegerField(
                    min_value=0, max_value=100_000, required=False,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 4}),
                )  # fmt: skip

    def breakdown(self) -> dict[str, dict[str, int]]:
        data = self.cleaned_data
        result: dict[str, dict[str, int]] = {}
        for sex in Sex.values:
            for band in AgeBand.values:
                value = data.get(f"n_{sex}_{band}")
                if value:
                    result.setdefault(sex, {})[band] = value
        return result


class AlertForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=AlertKind.choices)
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=Severity.choices)
    message = fields.ALERT_MESSAGE.form_field(
        label=gettext_lazy("Message (no names, no personal details)")
    )
    group_size = forms.IntegerField(
        label=gettext_lazy("Estimated group size"), min_value=1, max_value=100_000, required=False
    )
    direction = fields.ALERT_DIRECTION.form_field(label=gettext_lazy("Direction"))
    scope = forms.ChoiceField(
        label=gettext_lazy("Send to"),
        choices=[
            ("downstream", gettext_lazy("The points downstream on a route")),
            ("network", gettext_lazy("The whole network")),
            ("societies", gettext_lazy("Chosen National Societies")),
        ],
    )
    route = forms.ModelChoiceField(
        label=gettext_lazy("Route"), queryset=Route.objects.none(), required=False
    )
    societies = forms.ModelMultipleChoiceField(
        label=gettext_lazy("National Societies"),
        queryset=NationalSociety.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    hours = forms.IntegerField(
        label=gettext_lazy("Valid for (hours)"), min_value=1, max_value=336, initial=48
    )

    def __init__(self, network_id: uuid.UUID | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        route_field: Any = self.fields["route"]
        society_field: Any = self.fields["societies"]
        if network_id is not None:
            route_field.queryset = Route.objects.filter(network_id=network_id)
            society_field.queryset = NationalSociety.objects.filter(network_id=network_id)
        # The public wording: one box per language people read, named in that language.
        for language in PERSON_LANGUAGES:
            direction = "rtl" if is_rtl(language) else "ltr"
            self.fields[f"public_{language}"] = fields.ALERT_PUBLIC_TEXT.form_field(
                label=language_name_in(language, language),
                widget=forms.Textarea(attrs={"rows": 2, "lang": language, "dir": direction}),
            )

    def main_fields(self) -> list[forms.BoundField]:
        return [field for field in self.visible_fields() if not field.name.startswith("public_")]

    def public_fields(self) -> list[forms.BoundField]:
        return [self[f"public_{language}"] for language in PERSON_LANGUAGES]

    def public_texts(self) -> dict[str, str]:
        """The languages written (the action leaves blank ones out)."""
        return {language: self.cleaned_data[f"public_{language}"] for language in PERSON_LANGUAGES}


@staff_view(Rule.COORDINATION)
def counts(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    if actor.service_point is None:
        return redirect(reverse("accounts:pick_point") + "?next=" + request.path)
    form = CountForm(posted(request), initial={"day": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_daily_count(
                actor,
                day=data["day"],
                people=data["people"],
                new_arrivals=data["new_arrivals"] or 0,
                departures=data["departures"] or 0,
                staff_on_duty=data["staff_on_duty"],
                by_sex_and_age=form.breakdown(),
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Count saved."))
            return redirect("flows:counts")
    today = timezone.localdate()
    week = [
        selectors.day_count(actor.service_point, today - dt.timedelta(days=n)) for n in range(7)
    ]
    return render(
        request,
        "flows/counts.html",
        {
            "form": form,
            "week": week,
            "sexes": Sex.choices,
            "bands": AgeBand.choices,
            "forecast": forecast_point(actor.service_point),
            "routes": selectors.routes_for(actor),
        },
    )


@staff_view(Rule.SIGNED_IN)
@require_safe
def alerts(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    can_send = actor.role in ("coordinator", "focal_point")
    return render(
        request,
        "flows/alerts.html",
        {
            "form": AlertForm(actor.network_id) if can_send else None,
            "alerts": selectors.active_alerts(actor),
            "can_send": can_send,
        },
    )


@staff_view(Rule.COORDINATION)
@require_POST
def send_alert(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    if actor.service_point is None:
        return redirect(reverse("accounts:pick_point") + "?next=" + reverse("flows:alerts"))
    form = AlertForm(actor.network_id, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.send_alert(
                actor,
                kind=data["kind"],
                severity=data["severity"],
                message=data["message"],
                scope=data["scope"],
                route=data["route"],
                societies=list(data["societies"]),
                group_size=data["group_size"],
                direction=data["direction"],
                hours=data["hours"],
                public_texts=form.public_texts(),
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Alert sent."))
            return redirect("flows:alerts")
    return render(
        request,
        "flows/alerts.html",
        {"form": form, "alerts": selectors.active_alerts(actor), "can_send": True},
    )


@staff_view(Rule.SIGNED_IN)
@require_POST
def acknowledge(request: StaffRequest, alert_id: str) -> HttpResponse:
    actor = request.actor
    alert = selectors.alert_for(actor, alert_id)
    if actor.national_society_id is None:
        messages.error(request, _("Alerts are acknowledged by National Society staff."))
    else:
        actions.acknowledge(actor, alert)
        messages.success(request, _("Alert acknowledged."))
    # Back to the dashboard or the alerts page only: never an address from the request.
    return redirect("/" if request.POST.get("next") == "/" else reverse("flows:alerts"))
