"""Referral pages: send from a person's page, the inbox and outbox, a referral and its answers."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from weasyprint import HTML

from routecare.access import Rule, StaffRequest, staff_view
from routecare.audit.actions import record_system_event
from routecare.cards import qr
from routecare.core.http import add_validation_errors, posted
from routecare.people import selectors as people_selectors
from routecare.referrals import actions, partner, selectors
from routecare.referrals.forms import FIELD_LABELS, ReferralForm, RespondForm
from routecare.referrals.metrics import referral_metrics


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
            add_validation_errors(form, error, {"fields": "shared_fields"})
        else:
            messages.success(request, _("Referral sent."))
            return redirect("referrals:detail", referral_id=referral.pk)
    return render(
        request,
        "referrals/send.html",
        {
            "person": person,
            "form": form,
            "labels": FIELD_LABELS,
            "consents": people_selectors.active_consent_purposes(person),
        },
    )


@staff_view(Rule.PERSONAL_RECORDS)
def inbox(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    since = timezone.now() - dt.timedelta(days=30)
    return render(
        request,
        "referrals/inbox.html",
        {
            "incoming": selectors.inbox(actor),
            "outgoing": selectors.outbox(actor),
            "metrics": referral_metrics(actor, since),
        },
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


@staff_view(Rule.PERSONAL_RECORDS)
def slip(request: StaffRequest, referral_id: str) -> HttpResponse:
    """The printable slip; for a partner not on RouteCare, with a new one-time link."""
    actor = request.actor
    referral = selectors.get_referral(actor, referral_id)
    if referral.from_society_id != actor.national_society_id:
        raise Http404  # the sender prints slips
    link = ""
    if referral.partner_name:
        token = partner.new_link_token(actor, referral)
        link = request.build_absolute_uri(reverse("referrals:partner", args=[token]))
    html = render_to_string(
        "referrals/slip.html",
        {
            "referral": referral,
            "link": link,
            "qr": qr.svg(link, scale=2) if link else "",
            "labels": FIELD_LABELS,
        },
        request=request,
    )
    response = HttpResponse(bytes(HTML(string=html).write_pdf()), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="referral-slip.pdf"'
    return response


@csrf_exempt  # no session to forge requests with: the one-time token is the credential
@staff_view(Rule.PUBLIC)
def partner_page(request: HttpRequest, token: str) -> HttpResponse:
    """What a partner organisation sees through its one-time link, and its answer."""
    try:
        referral = partner.referral_for_link(token)
        if request.method == "POST":
            try:
                partner.record_partner_outcome(
                    token, request.POST.get("outcome", ""), request.POST.get("note", "")
                )
            except ValidationError as error:
                # The note is not shown again: it may be anything, of any length.
                response = render(
                    request,
                    "referrals/partner.html",
                    {"referral": referral, "labels": FIELD_LABELS, "errors": error.messages},
                    status=400,
                )
            else:
                response = render(request, "referrals/partner_done.html", status=200)
        else:
            record_system_event(
                "read",
                "referral",
                referral.pk,
                national_society_id=referral.from_society_id,
                detail=f"opened by partner link ({referral.partner_name})",
            )
            response = render(
                request, "referrals/partner.html", {"referral": referral, "labels": FIELD_LABELS}
            )
    except partner.LinkError:
        response = render(request, "referrals/partner_gone.html", status=410)
    # The page shows personal data to someone without an account: keep it nowhere.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
