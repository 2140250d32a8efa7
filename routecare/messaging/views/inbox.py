"""The helpdesk inbox of a society's staff: conversations by state, one conversation with its
messages and notes, and what staff do with it (assign, answer with an FAQ answer in the
person's language, note, resolve, erase on the person's request)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from routecare.access import Rule, StaffRequest, staff_view
from routecare.audit.actions import record_event
from routecare.feedback import selectors as faq
from routecare.messaging import actions, media, selectors, sending
from routecare.messaging.models import ChannelKind, ConversationState
from routecare.orgs.models import Membership


@staff_view(Rule.HELPDESK)
def inbox(request: StaffRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in ConversationState.values:
        state = ""
    workload = selectors.workload(request.actor, timezone.now())
    return render(
        request,
        "messaging/inbox.html",
        {
            "conversations": selectors.conversations(request.actor, state)[:200],
            "state": state,
            "states": ConversationState.choices,
            "counts": [(label, workload.by_state[v]) for v, label in ConversationState.choices],
            "workload": workload,
        },
    )


def _colleagues(request: StaffRequest) -> list[User]:
    members = Membership.objects.filter(
        national_society_id=request.actor.national_society_id,
        role__in=actions.HELPDESK_ROLES,
        user__is_active=True,
    ).select_related("user")
    return [member.user for member in members]


@staff_view(Rule.HELPDESK)
def conversation(request: StaffRequest, conversation_id: str) -> HttpResponse:
    actor = request.actor
    found = selectors.conversation(actor, conversation_id)
    language = found.contact.language or "en"
    query = request.GET.get("q", "")[:100]
    hits = faq.search_faq(actor, query, language, limit=5) if query else []
    chosen = next((hit for hit in hits if str(hit.entry.pk) == request.GET.get("faq")), None)
    thread = selectors.messages_of(actor, found)
    return render(
        request,
        "messaging/conversation.html",
        {
            "conversation": found,
            "messages_": thread,
            "kept": selectors.kept_in(thread),
            "notes": selectors.notes_of(actor, found),
            "language": language,
            "query": query,
            "hits": hits,
            "draft": chosen.text.answer if chosen else "",
            "window_open": found.channel.kind != ChannelKind.WHATSAPP
            or sending.window_open(found.contact),
            "colleagues": _colleagues(request),
        },
    )


@staff_view(Rule.HELPDESK)
@require_POST
def change(request: StaffRequest, conversation_id: str, what: str) -> HttpResponse:
    actor = request.actor
    found = selectors.conversation(actor, conversation_id)
    text = request.POST.get("text", "")
    try:
        if what == "reply":
            actions.reply(actor, found, text)
        elif what == "note":
            actions.add_note(actor, found, text)
        elif what == "assign":
            user_id = request.POST.get("assignee", "")
            number = user_id.isascii() and user_id.isdecimal() and len(user_id) <= 18
            assignee = User.objects.filter(pk=int(user_id)).first() if number else None
            actions.assign(actor, found, assignee)
        elif what == "link":
            actions.link_person(actor, found, text)
            messages.success(request, _("Linked to the person's record."))
        elif what == "keep":
            message = selectors.message_in(actor, found, text.strip())
            media.keep(actor, message)
            messages.success(request, _("The file is kept for 7 days."))
        elif what == "resolve":
            actions.resolve(actor, found)
        elif what == "erase":
            actions.erase_contact(actor, found)
            messages.success(request, _("Everything of this contact was deleted."))
            return redirect("messaging:inbox")
        else:
            raise Http404
    except ValidationError as error:
        for problem in error.messages:
            messages.error(request, problem)
    return redirect("messaging:conversation", found.pk)


@staff_view(Rule.HELPDESK)
def kept_media(request: StaffRequest, message_id: str) -> HttpResponse:
    """A kept photo, voice message or document: images shown, anything else downloaded, and
    nothing a browser would run (``nosniff``, a sandboxing policy)."""
    message = selectors.message(request.actor, message_id)
    kept = media.shown(request.actor, message)
    if kept is None:
        raise Http404
    record_event(request.actor, "read", "kept_media", message.pk)
    inline = kept.mime_type in media.INLINE_TYPES
    response = HttpResponse(
        media.unseal(kept), content_type=kept.mime_type if inline else "application/octet-stream"
    )
    response["Content-Disposition"] = "inline" if inline else f'attachment; filename="{message.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "no-store"
    return response
