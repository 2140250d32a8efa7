"""The staff FAQ: search in one's language, entries with their versions and the questions
that prompted them, drafting, approval and retirement."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core.http import add_validation_errors, posted
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.feedback import faq_actions, selectors
from routecare.feedback.forms import FaqForm, FaqSearchForm
from routecare.feedback.models import FaqStatus


@staff_view(Rule.FAQ)
def faq(request: StaffRequest) -> HttpResponse:
    """Search first: a volunteer with a person in front of them types a few words."""
    actor = request.actor
    form = FaqSearchForm(request.GET)
    form.is_valid()
    query = form.cleaned_data.get("q", "") if form.is_valid() else ""
    language = form.cleaned_data.get("language") or (get_language() or "en")[:2]
    if language not in PERSON_LANGUAGES:
        language = "en"
    hits = selectors.search_faq(actor, query, language) if query else []
    entries = [] if query else list(selectors.faq_entries(actor)[:100])
    return render(
        request,
        "feedback/faq.html",
        {
            "form": form, "query": query, "language": language, "hits": hits,
            "entries": entries, "may_edit": faq_actions.may_edit(actor),
        },
    )  # fmt: skip


@staff_view(Rule.FAQ)
def entry(request: StaffRequest, entry_id: str) -> HttpResponse:
    actor = request.actor
    found = selectors.faq_entry(actor, entry_id)
    return render(
        request,
        "feedback/faq_entry.html",
        {
            "entry": found,
            "texts": found.texts.order_by("language"),
            "versions": found.versions.select_related("changed_by"),
            "asked": selectors.asked_this_month(found),
            "questions": selectors.questions_of(actor, found),
            "may_edit": faq_actions.may_edit(actor) and found.status != FaqStatus.RETIRED,
            "may_approve": faq_actions.may_approve(actor),
        },
    )


@staff_view(Rule.FAQ_EDITING)
def edit(request: StaffRequest, entry_id: str | None = None) -> HttpResponse:
    actor = request.actor
    found = selectors.faq_entry(actor, entry_id) if entry_id else None
    form = FaqForm(posted(request), entry=found)
    if request.method == "POST" and form.is_valid():
        values = {"texts": form.texts(), "tags": form.tag_list(),
                  "public": form.cleaned_data["public"]}  # fmt: skip
        try:
            if found is None:
                found = faq_actions.create_entry(actor, **values)
            else:
                found = faq_actions.edit_entry(actor, found, **values)
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(request, _("FAQ entry saved as a draft."))
            return redirect("feedback:faq_entry", entry_id=found.pk)
    return render(request, "feedback/faq_edit.html", {"form": form, "entry": found})


@staff_view(Rule.FAQ_APPROVAL)
@require_POST
def review(request: StaffRequest, entry_id: str, what: str) -> HttpResponse:
    actor = request.actor
    found = selectors.faq_entry(actor, entry_id)
    try:
        if what == "approve":
            faq_actions.approve_entry(actor, found)
        elif what == "retire":
            faq_actions.retire_entry(actor, found)
        else:
            raise ValidationError(_("Unknown change."))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except PermissionError:
        raise PermissionDenied from None
    else:
        messages.success(request, _("Saved."))
    return redirect("feedback:faq_entry", entry_id=found.pk)
