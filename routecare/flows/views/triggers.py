"""Early-action triggers of a society: states, the log of changes, acknowledgement."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core import fields
from routecare.core.http import add_validation_errors, posted
from routecare.flows import selectors, triggers
from routecare.flows.models import Metric
from routecare.orgs.models import ServicePoint


class TriggerForm(forms.Form):
    name = fields.TRIGGER_NAME.form_field(label=gettext_lazy("Name"))
    metric = forms.ChoiceField(label=gettext_lazy("Metric"), choices=Metric.choices)
    service_point = forms.ModelChoiceField(
        label=gettext_lazy("Service point"),
        queryset=ServicePoint.objects.none(),
        required=False,
        empty_label=gettext_lazy("All points of the society (country)"),
    )
    readiness = forms.DecimalField(
        label=gettext_lazy("Readiness threshold"), min_value=0, max_digits=9, decimal_places=1
    )
    activation = forms.DecimalField(
        label=gettext_lazy("Activation threshold"), min_value=0, max_digits=9, decimal_places=1
    )

    def __init__(self, society_id: uuid.UUID | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["service_point"]
        field.queryset = ServicePoint.objects.filter(national_society_id=society_id)


@staff_view(Rule.COORDINATION)
def triggers_page(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    form = TriggerForm(actor.national_society_id, posted(request))
    if request.method == "POST":
        if not actor.administers_society:
            messages.error(request, _("Triggers are set up by the society's focal points."))
            return redirect("flows:triggers")
        if form.is_valid():
            try:
                triggers.save_trigger(actor, **form.cleaned_data)
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                messages.success(request, _("Trigger saved."))
                return redirect("flows:triggers")
    return render(
        request,
        "flows/triggers.html",
        {
            "form": form if actor.administers_society else None,
            "triggers": selectors.triggers_for(actor),
            "waiting": selectors.unacknowledged_events(actor),
        },
    )


@staff_view(Rule.COORDINATION)
@require_POST
def acknowledge_event(request: StaffRequest, event_id: uuid.UUID) -> HttpResponse:
    event = selectors.trigger_event_for(request.actor, event_id)
    triggers.acknowledge_event(request.actor, event)
    messages.success(request, _("Acknowledged."))
    # Back to the dashboard or the trigger page only: never an address from the request.
    return redirect("/" if request.POST.get("next") == "/" else "flows:triggers")
