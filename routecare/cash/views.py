"""Staff pages of cash rounds: parse, authorise, call a selector or an action, render.

The enrolment forms post names and a date of birth: they are marked sensitive (never in an
error report), go only to ``actions.enrol_person`` and are never put in a URL or a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from routecare import access
from routecare.access import Rule, StaffRequest, staff_view
from routecare.cash import actions, selectors
from routecare.cash.forms import DeleteRoundForm, EnrolForm, ReviewForm, RoundForm
from routecare.cash.models import CashEnrolment, CashRound, EnrolmentStatus, Verdict
from routecare.core.http import add_validation_errors, posted
from routecare.people import selectors as people_selectors
from routecare.people.models import Person

PRIVATE_FIELDS = ("given_names", "surnames", "birth_date")


@staff_view(Rule.PERSONAL_RECORDS)
def rounds(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    return render(
        request,
        "cash/rounds.html",
        {
            "rounds": selectors.rounds_for(actor),
            "may_create": access.allows(actor, Rule.CASH_ROUNDS),
        },
    )


@staff_view(Rule.CASH_ROUNDS)
def new_round(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    form = RoundForm(posted(request), network_id=actor.network_id)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values = actions.RoundInput(
            name=data["name"], starts_on=data["starts_on"], ends_on=data["ends_on"],
            amount=data["amount"], currency=data["currency"],
            participant_ids=form.participant_ids(), network_wide=data["network_wide"],
        )  # fmt: skip
        try:
            cash_round = actions.create_round(actor, values)
        except PermissionError as error:
            raise PermissionDenied from error
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Round created."))
            return redirect("cash:round", round_id=cash_round.pk)
    return render(request, "cash/round_form.html", {"form": form})


@staff_view(Rule.PERSONAL_RECORDS)
def round_page(request: StaffRequest, round_id: str) -> HttpResponse:
    actor = request.actor
    cash_round = selectors.round_for(actor, round_id)
    return render(
        request,
        "cash/round.html",
        {
            "round": cash_round,
            "enrolments": selectors.enrolments_of(actor, cash_round),
            "open": cash_round.is_open_on(timezone.now().date()),
            "may_manage": selectors.may_manage(actor, cash_round),
        },
    )


@sensitive_variables("data", "form")
def _enrol(request: StaffRequest, cash_round: CashRound, person: Person | None) -> HttpResponse:
    """The enrolment form, for a known person or one typed by short code."""
    actor = request.actor
    initial = {"sex": person.sex} if person is not None else {}
    form = EnrolForm(posted(request), with_code=person is None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if person is None:
            person = people_selectors.person_with_code(actor, data["code"], purpose="cash")
        if person is None:
            form.add_error("code", _("No person of your National Society has this code."))
        else:
            try:
                enrolment = actions.enrol_person(
                    actor, cash_round, person, given_names=data["given_names"],
                    surnames=data["surnames"], birth_date=data["birth_date"], sex=data["sex"],
                )  # fmt: skip
            except ValidationError as error:
                add_validation_errors(form, error)
            else:
                _say_verdict(request, enrolment)
                return redirect("cash:enrolment", enrolment_id=enrolment.pk)
    context = {"round": cash_round, "person": person, "form": form}
    return render(request, "cash/enrol.html", context)


def _say_verdict(request: StaffRequest, enrolment: CashEnrolment) -> None:
    if enrolment.verdict == Verdict.PROBABLE:
        messages.error(request, _("Probable duplicate: blocked until a focal point reviews."))
    elif enrolment.verdict == Verdict.POSSIBLE:
        messages.warning(request, _("Possible duplicate: a focal point reviews it before payment."))
    else:
        messages.success(request, _("Enrolled: no match in this round."))


@staff_view(Rule.PERSONAL_RECORDS)
@sensitive_post_parameters(*PRIVATE_FIELDS)
def enrol_by_code(request: StaffRequest, round_id: str) -> HttpResponse:
    return _enrol(request, selectors.round_for(request.actor, round_id), None)


@staff_view(Rule.PERSONAL_RECORDS)
@sensitive_post_parameters(*PRIVATE_FIELDS)
def enrol_person(request: StaffRequest, round_id: str, person_id: str) -> HttpResponse:
    cash_round = selectors.round_for(request.actor, round_id)
    return _enrol(request, cash_round, people_selectors.get_person(request.actor, person_id))


@staff_view(Rule.PERSONAL_RECORDS)
def person_rounds(request: StaffRequest, person_id: str) -> HttpResponse:
    actor = request.actor
    person = people_selectors.get_person(actor, person_id)
    enrolments = selectors.enrolments_of_person(actor, person)
    enrolled = {enrolment.round_id for enrolment in enrolments}
    open_rounds = selectors.open_rounds_for(actor, timezone.now().date())
    return render(
        request,
        "cash/person.html",
        {
            "person": person,
            "enrolments": enrolments,
            "rounds": [r for r in open_rounds if r.pk not in enrolled],
        },
    )


@staff_view(Rule.PERSONAL_RECORDS)
def enrolment_page(request: StaffRequest, enrolment_id: str) -> HttpResponse:
    actor = request.actor
    enrolment = selectors.enrolment_for(actor, enrolment_id)
    return render(
        request,
        "cash/enrolment.html",
        {
            "enrolment": enrolment,
            "flag": selectors.flag_of(enrolment),
            "may_review": access.may_review_cash_enrolment(actor, enrolment.national_society_id),
            "flagged": enrolment.status in (EnrolmentStatus.BLOCKED, EnrolmentStatus.REVIEW),
        },
    )


@staff_view(Rule.PERSONAL_RECORDS)
@require_POST
def check(request: StaffRequest, enrolment_id: str) -> HttpResponse:
    enrolment = selectors.enrolment_for(request.actor, enrolment_id)
    try:
        enrolment = actions.check_before_payment(request.actor, enrolment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _say_verdict(request, enrolment)
    return redirect("cash:enrolment", enrolment_id=enrolment.pk)


@staff_view(Rule.PERSONAL_RECORDS)
@require_POST
def pay(request: StaffRequest, enrolment_id: str) -> HttpResponse:
    enrolment = selectors.enrolment_for(request.actor, enrolment_id)
    try:
        actions.mark_paid(request.actor, enrolment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Marked as paid."))
    return redirect("cash:enrolment", enrolment_id=enrolment.pk)


@staff_view(Rule.CASH_REVIEW)
def review(request: StaffRequest, enrolment_id: str) -> HttpResponse:
    """Exactly what a focal point decides on: the verdict, the similarity, and the dates and
    points of the two enrolments."""
    actor = request.actor
    enrolment = selectors.enrolment_for(actor, enrolment_id)
    form = ReviewForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.review(actor, enrolment, form.cleaned_data["decision"])
        except PermissionError as error:
            raise PermissionDenied from error
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("cash:enrolment", enrolment_id=enrolment.pk)
    context = {"enrolment": enrolment, "flag": selectors.flag_of(enrolment), "form": form}
    return render(request, "cash/review.html", context)


@staff_view(Rule.CASH_ROUNDS)
@require_POST
def close(request: StaffRequest, round_id: str) -> HttpResponse:
    cash_round = selectors.round_for(request.actor, round_id)
    if not selectors.may_manage(request.actor, cash_round):
        raise PermissionDenied
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm closing the round."))
        return redirect("cash:round", round_id=cash_round.pk)
    try:
        actions.close_round(request.actor, cash_round)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Round closed: its key and encodings are erased."))
    return redirect("cash:round", round_id=cash_round.pk)


@staff_view(Rule.CASH_ROUNDS)
def delete(request: StaffRequest, round_id: str) -> HttpResponse:
    cash_round = selectors.round_for(request.actor, round_id)
    if not selectors.may_manage(request.actor, cash_round):
        raise PermissionDenied
    form = DeleteRoundForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            actions.delete_round(
                request.actor, cash_round, typed_name=form.cleaned_data["typed_name"]
            )
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("Round deleted with its enrolments and encodings."))
            return redirect("cash:rounds")
    return render(request, "cash/delete.html", {"round": cash_round, "form": form})
