"""Staff pages for cards: issue and print from a person's page, scan and read anywhere in the
network. QR texts travel in POST bodies only, never in URLs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from routecare.access import Actor, Rule, StaffRequest, staff_view
from routecare.cards import actions, pdf, qr, selectors
from routecare.cards.actions import CardReading
from routecare.cards.format import CardError
from routecare.cards.keys import KeyManagementError
from routecare.cards.messages import photo_error, read_error
from routecare.cards.models import RevokedSerial
from routecare.cards.summary import CardSummary
from routecare.core import person_texts
from routecare.core.http import posted
from routecare.core.languages import comma, language_choices, semicolon
from routecare.directory.selectors import point_names
from routecare.people import actions as people_actions
from routecare.people import selectors as people_selectors
from routecare.people.consent import WORDING_VERSION, wording_for_person
from routecare.people.models import ConsentPurpose, Person, TravelGroup
from routecare.referrals.models import Referral


class ScanForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Card code or short code"),
        required=False,
        max_length=4400,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
    )
    photo = forms.ImageField(label=gettext_lazy("Photo of the card"), required=False)


class StartRecordForm(forms.Form):
    text = forms.CharField(max_length=4400, widget=forms.HiddenInput)
    consent_language = forms.ChoiceField(label=gettext_lazy("Consent explained in"), choices=[])
    care_consent = forms.BooleanField(
        label=gettext_lazy("The person agrees to a record here, to receive care.")
    )
    # A card does not say who the person travels with: asked, never assumed "alone".
    travel_group = forms.ChoiceField(
        label=gettext_lazy("Travelling"),
        choices=TravelGroup.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy(
                "Say whether the person travels alone, with family, or is an unaccompanied minor."
            )
        },
    )
    # Consents the card carries that the person gives again here; never ticked for them.
    confirmed = forms.MultipleChoiceField(
        choices=[(code, label) for code, label in ConsentPurpose.choices if code != "care"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent_language"].choices = language_choices()  # type: ignore[attr-defined]


def _carried_consents(summary: CardSummary) -> dict[str, Any]:
    """The consents a card carries, in the person's language, for the volunteer to show."""
    staff_language = get_language() or "en"
    fallback = staff_language if staff_language in person_texts.PERSON_LANGUAGES else "en"
    language = person_texts.person_language(list(summary.languages or []), fallback)
    sentences = wording_for_person(language)
    labels = dict(ConsentPurpose.choices)
    return {
        "consent_shown_in": language,
        "consent_shown_rtl": person_texts.is_rtl(language),
        "consent_version": WORDING_VERSION,
        "care_sentence": sentences[ConsentPurpose.CARE],
        "carried_consents": [
            (purpose, labels[ConsentPurpose(purpose)], sentences[ConsentPurpose(purpose)])
            for purpose in summary.consents
            if purpose != "care"
        ],
    }


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[
            (RevokedSerial.Reason.LOST, gettext_lazy("Lost")),
            (RevokedSerial.Reason.STOLEN, gettext_lazy("Stolen")),
        ],
        # Named by the section's heading, "Card lost or stolen?" (card.html).
        widget=forms.Select(attrs={"aria-labelledby": "cancel"}),
    )


def _explain(summary: CardSummary | None, language: str) -> dict[str, Any]:
    codes = (
        [summary.issued_at_point, *(e.service_point for e in summary.encounters)] if summary else []
    )
    return {
        "summary": summary,
        # The card names points by code; the person reads their names, lists in their commas.
        "point_names": point_names(codes, language),
        "comma": comma(language),
        "semicolon": semicolon(language),
        "language": language,
        "rtl": person_texts.is_rtl(language),
        "texts": person_texts.texts_for(language),
        "person_languages": [
            (code, person_texts.texts_for(code)["care_card"])
            for code in person_texts.PERSON_LANGUAGES
        ],
    }


@staff_view(Rule.PERSONAL_RECORDS)
def card(request: StaffRequest, person_id: str) -> HttpResponse:
    """The person's card: issue (POST), show, print, explain in their language."""
    actor = request.actor
    person = people_selectors.get_person(actor, person_id)
    if request.method == "POST":
        try:
            actions.issue_card(actor, person)
        except (ValidationError, KeyManagementError) as error:
            messages.error(request, "; ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("Card issued. Print it or let the person photograph it."))
        return redirect("cards:card", person_id=person.pk)
    current = selectors.current_card(actor, person)
    summary, unreadable = None, False
    if current is not None:
        try:
            summary = selectors.summary_of_card(actor, current)
        except CardError:
            unreadable = True  # its key was retired since: issue a new one
    language = request.GET.get("lang", "")
    if language not in person_texts.PERSON_LANGUAGES:
        language = person_texts.person_language(person.languages)
    return render(
        request,
        "cards/card.html",
        {
            "person": person,
            "card": current,
            "qr_svg": qr.svg(str(current.qr_text)) if current and not unreadable else "",
            "unreadable": unreadable,
            "outdated": current is not None and selectors.is_outdated(current),
            "revoke_form": RevokeForm(),
            "history": selectors.cards_of(actor, person),
            **_explain(summary, language),
        },
    )


DOWNLOADS = {
    "card-pdf": ("application/pdf", "card.pdf"),
    "sticker-pdf": ("application/pdf", "sticker.pdf"),
    "png": ("image/png", "card.png"),
    "svg": ("image/svg+xml", "card.svg"),
}


@staff_view(Rule.PERSONAL_RECORDS)
@require_safe
def download(request: StaffRequest, person_id: str, kind: str) -> HttpResponse:
    actor = request.actor
    person = people_selectors.get_person(actor, person_id)
    current = selectors.current_card(actor, person)
    if current is None or kind not in DOWNLOADS:
        raise Http404
    selectors.summary_of_card(actor, current, purpose=f"download {kind}")
    text = str(current.qr_text)
    if kind.endswith("pdf"):
        language = person_texts.person_language(person.languages)
        body: bytes = pdf.card_pdf(
            qr_text=text,
            short_code=person.short_code,
            language=language,
            layout=kind.removesuffix("-pdf"),
        )
    elif kind == "png":
        body = qr.png(text)
    else:
        body = qr.svg(text).encode()
    content_type, filename = DOWNLOADS[kind]
    response = HttpResponse(body, content_type=content_type)
    # Named by the short code the person carries anyway, never by a record id.
    response["Content-Disposition"] = f'attachment; filename="{person.short_code}-{filename}"'
    return response


@staff_view(Rule.PERSONAL_RECORDS)
@require_POST
def revoke(request: StaffRequest, person_id: str) -> HttpResponse:
    actor = request.actor
    person = people_selectors.person_for_change(actor, person_id)
    form = RevokeForm(request.POST)
    current = selectors.current_card(actor, person)
    if current is None:
        messages.error(request, _("This person has no valid card to cancel."))
    elif not form.is_valid():
        messages.error(request, _("Say whether the card was lost or stolen."))
    else:
        actions.revoke_card(actor, current, form.cleaned_data["reason"])
        messages.success(request, _("Card cancelled: no point of the network will accept it."))
    return redirect("cards:card", person_id=person.pk)


@staff_view(Rule.CARD_READING)
def scan(request: StaffRequest) -> HttpResponse:
    """Scan with the camera, upload a photo, or type the code: the card is read server-side."""
    actor = request.actor
    form = ScanForm(posted(request), request.FILES or None)
    reading: CardReading | None = None
    expected: list[Referral] = []
    error = ""
    text = ""
    pending = request.session.pop(PENDING_CARD, None) if request.method != "POST" else None
    if isinstance(pending, str) and pending:
        # Back from choosing today's point: the card that was read before, read again.
        try:
            reading = actions.read_card(actor, pending)
            text = pending
        except CardError as failure:
            error = read_error(failure.code)
    elif request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"].strip()
        photo = form.cleaned_data["photo"]
        if photo is not None:
            try:
                if photo.size > qr.MAX_PHOTO_BYTES:
                    raise qr.PhotoError("too_large")
                text = qr.read_photo(photo.read())
            except qr.PhotoError as photo_failure:
                error = photo_error(photo_failure.code)
        if not error and not text:
            error = _("Scan the card, choose a photo of it, or type its code.")
        elif not error and selectors.is_short_code(text):
            if not actor.handles_personal_records:
                error = str(selectors.SHORT_CODE_NOT_FOR_PARTNERS)
            else:
                typed = selectors.look_up_typed_code(actor, text)
                expected = typed.expected
                if typed.person is not None and not expected:
                    return redirect("people:detail", person_id=typed.person.pk)
                if not typed.found:
                    error = str(selectors.SHORT_CODE_UNKNOWN)
        elif not error:
            try:
                reading = actions.read_card(actor, text)
            except CardError as failure:
                error = read_error(failure.code)
    elif request.method == "POST" and "text" in form.errors:
        error = read_error("not_routecare")  # too long, or characters no card has
    elif request.method == "POST":
        error = _("That upload was not understood; choose a photo (JPEG, PNG or WebP).")
    if reading is not None:
        expected = selectors.expected_referrals(actor, reading.summary.short_code)
    context: dict[str, Any] = {
        "form": form,
        "reading": reading,
        "error": error,
        "expected": expected,
    }
    if reading is not None:
        carried = _carried_consents(reading.summary)
        context.update(carried)
        context["start_form"] = StartRecordForm(
            initial={"text": text, "consent_language": carried["consent_shown_in"]}
        )
        context["qr_text"] = text
    return render(request, "cards/scan.html", context)


# The card text waiting, in the server-side session, while the volunteer chooses today's point.
PENDING_CARD = "pending_card_text"


# Card reading, not personal records: the decorator would send a volunteer who has not chosen
# today's point to the chooser and back with a GET, losing the card. This view keeps the card.
@staff_view(Rule.CARD_READING)
def start_record(request: StaffRequest) -> HttpResponse:
    """Start a record here for the person a card from another society describes."""
    if request.method != "POST":
        return redirect("cards:scan")
    if not request.actor.handles_personal_records:
        # A partner reads the health part of cards; records are kept by National Societies.
        messages.error(request, _("Partner organisations read cards; they do not start records."))
        return redirect("cards:scan")
    if request.actor.service_point is None:
        text = request.POST.get("text", "")
        if text and len(text) <= 4400:
            request.session[PENDING_CARD] = text
        return redirect(f"{reverse('accounts:pick_point')}?next={reverse('cards:scan')}")
    form = StartRecordForm(request.POST)
    if not form.is_valid():
        if "care_consent" in form.errors:
            messages.error(
                request, _("Record the person's consent to care first; nothing changed.")
            )
        for field in ("travel_group", "consent_language", "confirmed"):
            for error in form.errors.get(field, []):
                messages.error(request, str(error))
        _keep_pending(request)
        return redirect("cards:scan")
    try:
        person = _start_record(request.actor, form.cleaned_data)
    except CardError as failure:
        messages.error(request, read_error(failure.code))
        return redirect("cards:scan")
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        _keep_pending(request)
        return redirect("cards:scan")
    messages.success(request, _("Record started with the card's short code."))
    return redirect("people:detail", person_id=person.pk)


def _keep_pending(request: StaffRequest) -> None:
    """Back to the card's result, not to an empty page: the card need not be read again."""
    text = request.POST.get("text", "")
    if text and len(text) <= 4400:
        request.session[PENDING_CARD] = text


def _start_record(actor: Actor, data: dict[str, Any]) -> Person:
    """The record, with the consents the person confirmed again from the card, or nothing."""
    confirmed = data["confirmed"]
    with transaction.atomic():
        # Only what the card itself carries can be confirmed: read it for its consents.
        carried = actions.read_card(actor, data["text"]).summary if confirmed else None
        person = actions.start_record_from_card(
            actor,
            data["text"],
            consent_language=data["consent_language"],
            travel_group=data["travel_group"],
        )
        if carried is not None:
            people_actions.confirm_consents_from_card(
                actor,
                person,
                confirmed,
                carried=list(carried.consents),
                language=data["consent_language"],
                card_serial=carried.serial,
            )
    return person
