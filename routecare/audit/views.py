from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from routecare.access import Rule, StaffRequest, staff_view
from routecare.audit.models import AuditEvent
from routecare.audit.selectors import TrailFilter, society_trail


class TrailFilterForm(forms.Form):
    username = forms.CharField(label=_("Staff member"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", "—"), *AuditEvent.Action.choices]
    )
    object_type = forms.ChoiceField(
        label=_("Record"),
        required=False,
        choices=[
            ("", "—"),
            ("person", _("Person")),
            ("health_summary", _("Health summary")),
            ("encounter", _("Encounter")),
            ("follow_up", _("Follow-up")),
            ("consent", _("Consent")),
            ("service_point", _("Service point")),
            ("membership", _("Staff member")),
        ],
    )
    # An opaque id from the "access history" link of a person page, never a typed code.
    person = forms.UUIDField(required=False, widget=forms.HiddenInput)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


@staff_view(Rule.SOCIETY_ADMIN)
def trail(request: StaffRequest) -> HttpResponse:
    form = TrailFilterForm(request.GET or None)
    trail_filter = TrailFilter(**form.cleaned_data) if form.is_valid() else TrailFilter()
    events = society_trail(request.actor, trail_filter)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/trail.html", {"form": form, "page": page})
