"""Staff pages about people: parse, authorise, call a selector or an action, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.cards import selectors as card_selectors
from routecare.core.http import add_validation_errors, posted
from routecare.core.languages import language_choices
from routecare.directory import selectors as directory_selectors
from routecare.flows import selectors as flow_selectors
from routecare.orgs.taxonomy import Urgency
from routecare.people import actions, selectors
from routecare.people.consent import WORDING
from routecare.people.forms import (
    ConsentForm,
    EncounterForm,
    FindPersonForm,
    HealthSummaryForm,
    MedicineFormSet,
    RegisterPersonForm,
    medicines_from,
)
from routecare.people.models import ConsentPurpose


@staff_view(Rule.SIGNED_IN)
def home(request: StaffRequest) -> HttpResponse:
    stale = directory_selectors.stale_points(request.actor, timezone.now().date())
    overdue = selectors.overdue_follow_ups(request.actor, timezone.now().date())
    alerts = flow_selectors.active_alerts(request.actor)
    return render(
        request,
        "people/home.html",
        {
            "find_form": FindPersonForm(),
            "stale_points": stale,
            "overdue": overdue,
            "alerts": alerts,
            "trigger_events": flow_selectors.unacknowledged_events(request.actor),
            "forecast": flow_selectors.forecast_for_dashboard(request.actor),
            "next": "/",
        },
    )


@staff_view(Rule.PERSONAL_RECORDS)
def register(request: StaffRequest) -> HttpResponse:
    household_of = None
    household_id = request.GET.get("household_of") or request.POST.get("household_of")
    if household_id:
        household_of = selectors.get_person(request.actor, household_id)
    form = RegisterPersonForm(posted(request), initial={"consent_language": get_language() or "en"})
    if request.method == "POST" and form.is_valid():
        try:
            person = actions.register_person(
                request.actor, **form.registration(), household_of=household_of
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            # What the person receives today comes next: one tap fewer for the volunteer.
            messages.success(
                request,
                _("Registered. Give the person their short code, then record what they receive."),
            )
            return redirect("people:record_encounter", person_id=person.pk)
    return render(request, "people/register.html", {"form": form, "household_of": household_of})


@staff_view(Rule.PERSONAL_RECORDS)
def find(request: StaffRequest) -> HttpResponse:
    """Look a short code up (POST keeps codes out of URLs and logs); htmx gets a fragment."""
    form = FindPersonForm(posted(request))
    lookup = None
    if request.method == "POST" and form.is_valid():
        lookup = selectors.find_by_short_code(request.actor, form.cleaned_data["code"])
        if lookup.person is not None and not request.headers.get("HX-Request"):
            return redirect("people:detail", person_id=lookup.person.pk)
    template = (
        "people/_find_result.html" if request.headers.get("HX-Request") else "people/find.html"
    )
    return render(request, template, {"find_form": form, "lookup": lookup})


@staff_view(Rule.PERSONAL_RECORDS)
def detail(request: StaffRequest, person_id: str) -> HttpResponse:
    actor = request.actor
    person = selectors.get_person(actor, person_id)
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "health": selectors.get_health_summary(actor, person),
            "encounters": selectors.encounters_of(actor, person),
            "follow_ups": selectors.follow_ups_of(actor, person),
            "consents": selectors.consents_of(actor, person),
            "active_purposes": selectors.active_consent_purposes(person),
            "household": selectors.household_members(actor, person),
            "purposes": [(code, label, WORDING[code]) for code, label in ConsentPurpose.choices],
            "consent_languages": language_choices(),
            # The language the person understands, not the interface's.
            "consent_language": (person.languages or [get_language()])[0],
            # Without a valid card, issuing one is a button here: one tap fewer on a phone.
            "has_card": card_selectors.current_card(actor, person) is not None,
        },
    )


@staff_view(Rule.PERSONAL_RECORDS)
def record_encounter(request: StaffRequest, person_id: str) -> HttpResponse:
    actor = request.actor
    person = selectors.get_person(actor, person_id)
    form = EncounterForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        follow_up = None
        if data["follow_up_text"].strip():
            follow_up = actions.FollowUpInput(
                text=data["follow_up_text"],
                due=data["follow_up_due"],
                urgency=data["follow_up_urgency"] or Urgency.ROUTINE,
            )
        try:
            actions.record_encounter(
                actor,
                person,
                services=form.services(),
                triage=data["triage"],
                notes=data["notes"],
                follow_up=follow_up,
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Encounter recorded."))
            return redirect("people:detail", person_id=person.pk)
    return render(request, "people/encounter_form.html", {"person": person, "form": form})


@staff_view(Rule.PERSONAL_RECORDS)
def edit_health(request: StaffRequest, person_id: str) -> HttpResponse:
    actor = request.actor
    person = selectors.get_person(actor, person_id)
    summary = selectors.get_health_summary(actor, person)
    form = HealthSummaryForm(posted(request))
    medicines = MedicineFormSet(posted(request), initial=summary.medicines or [])
    if request.method == "POST" and form.is_valid() and medicines.is_valid():
        changes = form.changes(summary)
        changes["medicines"] = medicines_from(medicines, timezone.now().date())
        try:
            actions.update_health_summary(actor, person, **changes)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Health summary saved."))
            return redirect("people:detail", person_id=person.pk)
    if request.method != "POST":
        form.initial_from(summary)
    return render(
        request,
        "people/health_form.html",
        {"person": person, "form": form, "medicines": medicines, "health": summary},
    )


@staff_view(Rule.PERSONAL_RECORDS)
@require_POST
def complete_follow_up(request: StaffRequest, person_id: str, follow_up_id: str) -> HttpResponse:
    actor = request.actor
    person = selectors.person_for_change(actor, person_id)
    follow_up = selectors.follow_up_for_change(actor, follow_up_id)
    if follow_up.person_id != person.pk:
        raise Http404
    actions.complete_follow_up(actor, follow_up)
    messages.success(request, _("Follow-up marked as done."))
    return redirect("people:detail", person_id=person.pk)


@staff_view(Rule.PERSONAL_RECORDS)
@require_POST
def change_consent(request: StaffRequest, person_id: str) -> HttpResponse:
    actor = request.actor
    person = selectors.person_for_change(actor, person_id)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That consent change was not understood; nothing changed."))
    elif form.cleaned_data["decision"] == "give":
        language = form.cleaned_data["language"] or get_language() or "en"
        actions.give_consent(actor, person, form.cleaned_data["purpose"], language)
        messages.success(request, _("Consent recorded."))
    else:
        actions.withdraw_consent(actor, person, form.cleaned_data["purpose"])
        messages.success(request, _("Consent withdrawn. It takes effect at once."))
    return redirect("people:detail", person_id=person.pk)
