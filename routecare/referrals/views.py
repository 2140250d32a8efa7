"""Referral pages: send from a person's page, the inbox and outbox, a referral and its answers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core.http import posted
from routecare.people import selectors as people_selectors
from routecare.referrals import actions, selectors
from routecare.referrals.forms import FIELD_LABELS, ReferralForm, RespondForm


def _add_errors(form: ReferralForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = "shared_fields" if field == "fields" else field
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, error)


@staff_view(Rule.PERSONAL_RECORDS)
def send(request: StaffRequest, person_id: str) -> HttpResponse:
    actor = request.actor
    person = people_selectors.get_person(actor, person_id)
    form = ReferralForm(actor, posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = actions.send_referral(
                actor,
                person,
                destination=form.destination_value(),
                referral_type=data["type"],
                service=data["service"],
                reason=data["reason"],
                urgency=data["urgency"],
                due=data["due"],
                fields=data["shared_fields"],
                override_reason=data["override_reason"],
                service_warning_reason=data["service_warning_reason"],
                idempotency_key=data["idempotency_key"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Referral sent."))
            return redirect("referrals:detail", referral_id=referral.pk)
    return render(
        request,
        "referrals/send.html",
        {
            "person": person,
            "form": form,
            "values": actions.shareable_values(person),
            "labels": FIELD_LABELS,
            "consents": people_selectors.active_consent_purposes(person),
        },
    )


@staff_view(Rule.PERSONAL_RECORDS)
def inbox(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    return render(
        request,
        "referrals/inbox.html",
        {"incoming": selectors.inbox(actor), "outgoing": selectors.outbox(actor)},
    )


@staff_view(Rule.PERSONAL_RECORDS)
def detail(request: StaffRequest, referral_id: str) -> HttpResponse:
    actor = request.actor
    referral = selectors.get_referral(actor, referral_id)
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "responses": list(referral.responses.select_related("by_society")),
            "labels": FIELD_LABELS,
            "receiving": referral.to_society_id == actor.national_society_id,
            "sending": referral.from_society_id == actor.national_society_id,
        },
    )


@staff_view(Rule.PERSONAL_RECORDS)
@require_POST
def respond(request: StaffRequest, referral_id: str) -> HttpResponse:
    actor = request.actor
    referral = selectors.get_referral(actor, referral_id)
    form = RespondForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That answer was not understood; nothing changed."))
    else:
        try:
            actions.respond(actor, referral, form.cleaned_data["action"], form.cleaned_data["note"])
        except ValidationError as error:
            messages.error(request, "; ".join(error.messages))
        else:
            messages.success(request, _("Referral updated."))
    return redirect("referrals:detail", referral_id=referral.pk)
