"""Staff pages: the inbox of feedback one handles, the safeguarding list, an item and its
handling, recording what a person says, receipts and trends."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.core.http import add_validation_errors, posted
from routecare.feedback import actions, faq_actions, selectors
from routecare.feedback.forms import (
    AssignForm,
    NoteForm,
    RecordFeedbackForm,
    ResponseForm,
    StatusForm,
)
from routecare.feedback.models import Category, Channel, FeedbackResponse, Status
from routecare.orgs.models import Membership, NationalSociety


@staff_view(Rule.FEEDBACK)
def inbox(request: StaffRequest) -> HttpResponse:
    status, category = request.GET.get("status", ""), request.GET.get("category", "")
    items = selectors.inbox(request.actor, status=status, category=category)[:200]
    return render(
        request,
        "feedback/inbox.html",
        {
            "items": items, "status": status, "category": category,
            "statuses": Status.choices,
            "categories": [c for c in Category.choices if c[0] != Category.SENSITIVE],
        },
    )  # fmt: skip


@staff_view(Rule.SAFEGUARDING)
def safeguarding(request: StaffRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    items = selectors.safeguarding_inbox(request.actor, status=status)[:200]
    return render(
        request,
        "feedback/inbox.html",
        {"items": items, "status": status, "statuses": Status.choices, "sensitive": True},
    )


def _assignable(society_id: uuid.UUID | None) -> list[tuple[int, str]]:
    """Colleagues of the society concerned (the action checks each may handle the item)."""
    if society_id is None:
        return []
    members = Membership.objects.filter(
        national_society_id=society_id, user__is_active=True
    ).select_related("user")
    return [(m.user.pk, f"{m.user.get_username()} ({m.get_role_display()})") for m in members]


@staff_view(Rule.FEEDBACK)
def detail(request: StaffRequest, feedback_id: str) -> HttpResponse:
    actor = request.actor
    item = selectors.get_feedback(actor, feedback_id)
    assign_form = AssignForm(
        initial={"assignee": item.assignee_id},
        choices=[("", "—"), *_assignable(item.about_society_id)],
    )
    return render(
        request,
        "feedback/detail.html",
        {
            "item": item,
            "status_form": StatusForm(initial={"status": item.status}),
            "note_form": NoteForm(),
            "response_form": ResponseForm(),
            "assign_form": assign_form,
            "notes": item.notes.select_related("author"),
            "responses": item.responses.select_related("author"),
            "may_make_faq": item.category == Category.QUESTION
            and item.faq_entry_id is None
            and faq_actions.may_edit(actor),
        },
    )


def _back(item_id: object) -> HttpResponse:
    return redirect("feedback:detail", feedback_id=item_id)


def _errors(request: StaffRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@staff_view(Rule.FEEDBACK)
@require_POST
def change(request: StaffRequest, feedback_id: str, what: str) -> HttpResponse:
    """One handling step: status, assignee, note, response, response sent, FAQ draft."""
    actor = request.actor
    item = selectors.feedback_for_change(actor, feedback_id)
    try:
        if what == "status":
            form = StatusForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose a status after new."))
            actions.change_status(actor, item, form.cleaned_data["status"])
        elif what == "assign":
            raw = request.POST.get("assignee", "")
            user = User.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
            if raw and user is None:
                raise ValidationError(_("That person cannot handle this feedback."))
            actions.assign(actor, item, user)
        elif what in ("note", "respond"):
            text_form = NoteForm(request.POST) if what == "note" else ResponseForm(request.POST)
            if not text_form.is_valid():
                # The field's own messages: blank, too long, or characters it may not hold.
                raise ValidationError(
                    list(text_form.errors.get("text") or [_("Write something first.")])
                )
            if what == "note":
                actions.add_note(actor, item, text_form.cleaned_data["text"])
            else:
                actions.respond(actor, item, text_form.cleaned_data["text"])
        elif what == "sent":
            response = FeedbackResponse.objects.filter(
                feedback=item, pk=request.POST.get("response", "0") or 0
            ).first()
            if response is None:
                raise ValidationError(_("Unknown answer."))
            actions.mark_response_sent(actor, response)
        elif what == "faq":
            entry = faq_actions.draft_from_feedback(actor, item)
            messages.success(request, _("Draft FAQ entry made from the question."))
            return redirect("feedback:faq_edit", entry_id=entry.pk)
        else:
            raise ValidationError(_("Unknown change."))
    except ValidationError as error:
        _errors(request, error)
    except PermissionError:
        raise PermissionDenied from None
    else:
        messages.success(request, _("Saved."))
    return _back(item.pk)


@staff_view(Rule.PERSONAL_RECORDS)
def record(request: StaffRequest) -> HttpResponse:
    """A volunteer writes down feedback a person gives at the point."""
    actor = request.actor
    society = NationalSociety.objects.select_related("network").get(pk=actor.society_id)
    network = society.network
    form = RecordFeedbackForm(posted(request), network=network)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item, _new = actions.submit_feedback(
                about=actions.parse_about(network, data["about"], public_only=False),
                category=data["category"], text=data["text"], language=data["language"],
                form_token=data["form_token"], contact_method=data["contact_method"],
                contact_value=data["contact_value"], contact_consent=data["contact_consent"],
                channel=Channel.STAFF, actor=actor,
                received_by=society,
            )  # fmt: skip
        except ValidationError as error:
            add_validation_errors(form, error)
        else:
            messages.success(
                request,
                _("Feedback sent. Give the person the reference %(reference)s.")
                % {"reference": item.reference},
            )
            return redirect("feedback:record")
    if not form.is_bound:
        form.initial["form_token"] = secrets.token_urlsafe(24)
    return render(request, "feedback/record.html", {"form": form})


@staff_view(Rule.SIGNED_IN)
def receipts(request: StaffRequest) -> HttpResponse:
    return render(
        request, "feedback/receipts.html", {"receipts": selectors.receipts(request.actor)}
    )


@staff_view(Rule.FEEDBACK)
def trends(request: StaffRequest) -> HttpResponse:
    since = timezone.now().date() - dt.timedelta(days=90)
    board = selectors.trends(request.actor, since)
    if board is None:
        raise PermissionDenied
    # A hidden cell says "hidden", whatever its size: most cells hidden to protect a small one
    # are large (never "<5").
    cells = board.protected.shown(str(_("hidden")))
    rows = list(zip([*board.row_labels, _("Total")], cells, strict=True))
    return render(request, "feedback/trends.html", {"board": board, "rows": rows, "since": since})
