"""Retention pages of a society's focal point: the retention policy and its purges, and
data-subject requests (show a person everything held about them; erase it on request).

Codes and ids travel in POST bodies only, never in URLs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core.http import add_validation_errors, posted
from routecare.core.person_texts import person_language
from routecare.orgs.models import NationalSociety
from routecare.people.models import Person
from routecare.retention import actions, report, selectors
from routecare.retention.forms import EraseForm, PolicyForm, ReportLanguageForm, RequestForm


@staff_view(Rule.SOCIETY_ADMIN)
def policy(request: StaffRequest) -> HttpResponse:
    society = NationalSociety.objects.get(pk=request.actor.society_id)
    current = actions.policy_of(society)
    form = PolicyForm(
        posted(request),
        initial={
            "inactive_months": current.inactive_months,
            "purge_enabled": current.purge_enabled,
        },
    )
    if request.method == "POST" and "count" in request.POST:
        result = actions.purge_society(society, by=request.user.get_username())
        messages.info(
            request, _("Dry run: %(n)s records would be deleted now.") % {"n": result.people}
        )
        return redirect("retention:policy")
    if form.is_valid():
        try:
            actions.set_policy(
                request.actor,
                inactive_months=form.cleaned_data["inactive_months"],
                purge_enabled=form.cleaned_data["purge_enabled"],
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Retention policy saved."))
            return redirect("retention:policy")
    return render(
        request,
        "retention/policy.html",
        {"form": form, "policy": current, "runs": selectors.purge_runs(request.actor)},
    )


def _report_page(
    request: StaffRequest, person: Person, language: str, erase_form: EraseForm | None = None
) -> HttpResponse:
    held = selectors.everything_held(request.actor, person)
    built = report.build(held, language, timezone.localdate())
    return render(
        request,
        "retention/request.html",
        {
            "form": RequestForm(),
            "person": person,
            "report": built,
            "language_form": ReportLanguageForm(
                initial={"person": person.pk, "language": built.language}
            ),
            "erase_form": erase_form or EraseForm(initial={"person": person.pk}, prefix="erase"),
        },
    )


@staff_view(Rule.SOCIETY_ADMIN)
def request_page(request: StaffRequest) -> HttpResponse:
    if request.method == "POST" and "person" in request.POST:
        language_form = ReportLanguageForm(request.POST)
        if language_form.is_valid():
            person = selectors.person_of_request(
                request.actor, language_form.cleaned_data["person"]
            )
            return _report_page(request, person, language_form.cleaned_data["language"])
        return redirect("retention:requests")
    form = RequestForm(posted(request))
    if form.is_valid():
        found = selectors.person_for_request(request.actor, form.cleaned_data["code"])
        if found is not None:
            return _report_page(request, found, person_language(found.languages))
        form.add_error("code", _("No person of your National Society has this code."))
    return render(request, "retention/request.html", {"form": form})


@staff_view(Rule.SOCIETY_ADMIN)
@require_POST
def erase(request: StaffRequest) -> HttpResponse:
    form = EraseForm(request.POST, prefix="erase")
    if not form.is_valid():
        if "person" not in form.cleaned_data:
            return redirect("retention:requests")
        person = selectors.person_of_request(request.actor, form.cleaned_data["person"])
        return _report_page(request, person, person_language(person.languages), form)
    person = selectors.person_of_request(request.actor, form.cleaned_data["person"])
    try:
        erasure = actions.erase_person(request.actor, person, typed_code=form.cleaned_data["code"])
    except ValidationError as error:
        add_validation_errors(form, error)
        return _report_page(request, person, person_language(person.languages), form)
    messages.success(
        request,
        _(
            "Everything held about the person was erased: %(encounters)s visits, %(referrals)s "
            "referrals; %(cards)s cards can no longer be read."
        )
        % {
            "encounters": erasure.encounters,
            "referrals": erasure.referrals,
            "cards": erasure.cards_revoked,
        },
    )
    return redirect("retention:requests")
