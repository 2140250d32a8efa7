"""Feedback and the FAQ over the API: a public submission and answer lookup (no token, rate
limited), the staff inbox and its handling, receipts, trends, and the FAQ."""

import datetime as dt
import uuid
from typing import Annotated, Any, Literal, get_args

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from routecare.access import Actor, Rule, api_rule
from routecare.core import fields, ratelimit
from routecare.core.api_errors import ErrorOut
from routecare.core.fields import InputSchema
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.feedback import actions, faq_actions, selectors
from routecare.feedback.models import (
    Category,
    Channel,
    ContactMethod,
    FaqEntry,
    Feedback,
    FeedbackResponse,
)
from routecare.indicators.disclosure import HIDDEN
from routecare.orgs.models import NationalSociety

router = Router(tags=["feedback"])
Language = Literal["en", "es", "fr", "ar", "fa", "ps", "ur", "ht"]
if set(PERSON_LANGUAGES) != set(get_args(Language)):  # pragma: no cover - caught on import
    raise ImportError("the API's languages are the person-facing ones")


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


class PublicFeedbackIn(InputSchema):
    country: str = Field(..., min_length=2, max_length=2, description="where the person is")
    about: str = Field(
        ..., max_length=60, description="point:<code>, society:<country code> or general"
    )
    category: Category
    text: Annotated[str, fields.FEEDBACK_TEXT]
    language: Language
    form_token: str = Field(
        ..., min_length=16, max_length=128, description="random per message: a resend is kept once"
    )
    contact_consent: bool = False
    contact_method: ContactMethod | None = None
    contact_value: Annotated[str, fields.CONTACT_VALUE] = ""


class ReceiptOut(Schema):
    reference: str
    created_at: dt.datetime
    sent_to: str


class AnswerIn(InputSchema):
    reference: str = Field(..., max_length=40)


class AnswerOut(Schema):
    reference: str
    status: str
    answers: list[str]


def _receipt(item: Feedback) -> dict[str, Any]:
    sent_to = item.about_society.name if item.about_society else item.network.name
    return {"reference": item.reference, "created_at": item.created_at, "sent_to": sent_to}


@router.post("/public/feedback", response={201: ReceiptOut, 200: ReceiptOut, 429: ErrorOut},
             auth=None)  # fmt: skip
@api_rule(Rule.PUBLIC)
def submit_public(request: HttpRequest, body: PublicFeedbackIn) -> Status[Any]:
    """Feedback from a person, without an account (what the public page sends). 201 with the
    receipt, or 200 with the same receipt when the same form token was sent before."""
    society = NationalSociety.objects.filter(country_code=body.country.upper()).first()
    if society is None:
        raise ValidationError({"country": "Unknown country."})
    resent = actions.already_submitted(body.form_token)
    if resent is not None:  # the same message again (a retry): its receipt, not counted
        return Status(200, _receipt(resent))
    if not ratelimit.allow(
        "feedback", request, limit=settings.ROUTECARE_FEEDBACK_PER_HOUR, seconds=3600
    ):
        return Status(429, {"detail": "Too many messages from this address: try in an hour."})
    item, new = actions.submit_feedback(
        about=actions.parse_about(society.network, body.about, public_only=True),
        category=body.category, text=body.text, language=body.language,
        form_token=body.form_token, contact_method=body.contact_method or "",
        contact_value=body.contact_value, contact_consent=body.contact_consent,
        received_by=society,
    )  # fmt: skip
    return Status(201 if new else 200, _receipt(item))


@router.post(
    "/public/feedback/answer", response={200: AnswerOut, 404: ErrorOut, 429: ErrorOut}, auth=None
)
@api_rule(Rule.PUBLIC)
def public_answer(request: HttpRequest, body: AnswerIn) -> Status[Any]:
    """The status and answers of one's own feedback, by the reference of its receipt."""
    if not ratelimit.allow("feedback-answer", request, limit=30, seconds=3600):
        return Status(429, {"detail": "Too many lookups from this address: try in an hour."})
    item = selectors.public_answer(body.reference)
    if item is None:
        raise Http404
    return Status(
        200,
        {"reference": item.reference, "status": item.status,
         "answers": [str(r.text) for r in item.responses.all()]},
    )  # fmt: skip


class FeedbackIn(InputSchema):
    about: str = Field(..., max_length=60)
    category: Category
    text: Annotated[str, fields.FEEDBACK_TEXT]
    language: Language
    form_token: str = Field(..., min_length=16, max_length=128)
    contact_consent: bool = False
    contact_method: ContactMethod | None = None
    contact_value: Annotated[str, fields.CONTACT_VALUE] = ""


class FeedbackOut(Schema):
    id: uuid.UUID
    reference: str
    category: str
    status: str
    channel: str
    language: str
    text: str
    about_society: str | None
    about_point: str | None
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    assignee: str | None
    answerable: bool
    faq_entry: uuid.UUID | None


def _out(item: Feedback) -> dict[str, Any]:
    return {
        "id": item.pk, "reference": item.reference, "category": item.category,
        "status": item.status, "channel": item.channel, "language": item.language,
        "text": str(item.text),
        "about_society": item.about_society.country_code if item.about_society else None,
        "about_point": item.about_point.code if item.about_point else None,
        "created_at": item.created_at, "acknowledged_at": item.acknowledged_at,
        "resolved_at": item.resolved_at, "closed_at": item.closed_at,
        "assignee": item.assignee.get_username() if item.assignee else None,
        "answerable": item.answerable, "faq_entry": item.faq_entry_id,
    }  # fmt: skip


@router.post("/feedback", response={201: FeedbackOut, 200: FeedbackOut})
@api_rule(Rule.PERSONAL_RECORDS)
def record_feedback(request: HttpRequest, body: FeedbackIn) -> Status[Any]:
    """Feedback a person gives staff at their point (the channel is "staff")."""
    actor = _actor(request)
    society = NationalSociety.objects.select_related("network").get(pk=actor.society_id)
    item, new = actions.submit_feedback(
        about=actions.parse_about(society.network, body.about, public_only=False),
        category=body.category, text=body.text, language=body.language,
        form_token=body.form_token, contact_method=body.contact_method or "",
        contact_value=body.contact_value, contact_consent=body.contact_consent,
        channel=Channel.STAFF, received_by=society, actor=actor,
    )  # fmt: skip
    if item.about_society_id != actor.society_id:
        # Another society's now: the recorder keeps the receipt, not the content.
        return Status(201 if new else 200, {**_out(item), "text": ""})
    return Status(201 if new else 200, _out(item))


@router.get("/feedback", response=list[FeedbackOut])
@api_rule(Rule.FEEDBACK)
def list_feedback(
    request: HttpRequest, status: str = "", category: str = "", sensitive: bool = False
) -> list[dict[str, Any]]:
    """The feedback the caller handles; ``sensitive=true`` for safeguarding focal points."""
    actor = _actor(request)
    if sensitive:
        rows = selectors.safeguarding_inbox(actor, status=status)
    else:
        rows = selectors.inbox(actor, status=status, category=category)
    return [_out(item) for item in rows[:500]]


@router.get("/feedback/receipts", response=list[ReceiptOut])
@api_rule(Rule.SIGNED_IN)
def list_receipts(request: HttpRequest) -> list[selectors.Receipt]:
    return selectors.receipts(_actor(request))


class TrendsOut(Schema):
    level: str
    since: dt.date
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    acknowledge_hours_median: float | None
    resolve_hours_median: float | None


class TrendsQuery(InputSchema):
    days: int = Field(90, ge=1, le=730)


@router.get("/feedback/trends", response=TrendsOut)
@api_rule(Rule.FEEDBACK)
def feedback_trends(request: HttpRequest, query: Query[TrendsQuery]) -> dict[str, Any]:
    since = timezone.now().date() - dt.timedelta(days=query.days)
    board = selectors.trends(_actor(request), since)
    if board is None:
        raise Http404
    return {
        "level": board.level, "since": since, "columns": [*board.columns, "Total"],
        "rows": list(
            zip([*board.row_labels, "Total"], board.protected.shown(HIDDEN), strict=True)
        ),
        "acknowledge_hours_median": board.acknowledge_hours_median,
        "resolve_hours_median": board.resolve_hours_median,
    }  # fmt: skip


@router.get("/feedback/{feedback_id}", response=FeedbackOut)
@api_rule(Rule.FEEDBACK)
def get_feedback(request: HttpRequest, feedback_id: uuid.UUID) -> dict[str, Any]:
    return _out(selectors.get_feedback(_actor(request), feedback_id))


class ChangeIn(InputSchema):
    status: Literal["acknowledged", "in-progress", "resolved", "closed"] | None = None
    assignee: str | None = Field(None, max_length=150, description="username; empty to clear")
    note: Annotated[str, fields.FEEDBACK_NOTE] | None = None
    answer: Annotated[str, fields.FEEDBACK_ANSWER] | None = None


@router.post("/feedback/{feedback_id}", response=FeedbackOut)
@api_rule(Rule.FEEDBACK)
def change_feedback(request: HttpRequest, feedback_id: uuid.UUID, body: ChangeIn) -> dict[str, Any]:
    """Status, assignee, an internal note and an answer to the person, in one call."""
    actor = _actor(request)
    item = selectors.feedback_for_change(actor, feedback_id)
    if body.status:
        actions.change_status(actor, item, body.status)
    if body.assignee is not None:
        user = User.objects.filter(username=body.assignee).first() if body.assignee else None
        if body.assignee and user is None:
            raise ValidationError({"assignee": "That person cannot handle this feedback."})
        actions.assign(actor, item, user)
    if body.note:
        actions.add_note(actor, item, body.note)
    if body.answer:
        actions.respond(actor, item, body.answer)
    return _out(selectors.feedback_for_change(actor, feedback_id))


class AnsweredIn(InputSchema):
    answer_id: int


@router.post("/feedback/{feedback_id}/answer-sent", response=FeedbackOut)
@api_rule(Rule.FEEDBACK)
def answer_sent(request: HttpRequest, feedback_id: uuid.UUID, body: AnsweredIn) -> dict[str, Any]:
    actor = _actor(request)
    item = selectors.feedback_for_change(actor, feedback_id)
    response = FeedbackResponse.objects.filter(feedback=item, pk=body.answer_id).first()
    if response is None:
        raise Http404
    actions.mark_response_sent(actor, response)
    return _out(item)


# The FAQ


class FaqTextIO(InputSchema):
    question: Annotated[str, fields.FAQ_QUESTION]
    answer: Annotated[str, fields.FAQ_ANSWER] = ""


class FaqIn(InputSchema):
    texts: dict[Language, FaqTextIO] = Field(..., min_length=1)
    tags: list[str] = Field(default_factory=list, max_length=20)
    public: bool = False


class FaqOut(Schema):
    id: uuid.UUID
    status: str
    public: bool
    tags: list[str]
    version: int
    texts: dict[str, FaqTextIO]
    approved_by: str | None
    approved_at: dt.datetime | None
    asked_this_month: int


def _faq_out(entry: FaqEntry) -> dict[str, Any]:
    return {
        "id": entry.pk, "status": entry.status, "public": entry.public, "tags": entry.tags,
        "version": entry.version,
        "texts": {t.language: {"question": t.question, "answer": t.answer}
                  for t in entry.texts.all()},
        "approved_by": entry.approved_by.get_username() if entry.approved_by else None,
        "approved_at": entry.approved_at, "asked_this_month": selectors.asked_this_month(entry),
    }  # fmt: skip


class FaqQuery(InputSchema):
    q: str = Field("", max_length=200)
    language: Language = "en"


@router.get("/faq", response=list[FaqOut])
@api_rule(Rule.FAQ)
def list_faq(request: HttpRequest, query: Query[FaqQuery]) -> list[dict[str, Any]]:
    """Approved entries (drafts too for editors); with ``q``, a full-text search in one
    language, best first."""
    actor = _actor(request)
    if query.q:
        hits = selectors.search_faq(actor, query.q, query.language)
        return [_faq_out(hit.entry) for hit in hits]
    return [_faq_out(entry) for entry in selectors.faq_entries(actor)[:200]]


@router.get("/faq/{entry_id}", response=FaqOut)
@api_rule(Rule.FAQ)
def get_faq(request: HttpRequest, entry_id: uuid.UUID) -> dict[str, Any]:
    return _faq_out(selectors.faq_entry(_actor(request), entry_id))


def _texts(body: FaqIn) -> dict[str, tuple[str, str]]:
    return {language: (text.question, text.answer) for language, text in body.texts.items()}


@router.post("/faq", response={201: FaqOut})
@api_rule(Rule.FAQ_EDITING)
def create_faq(request: HttpRequest, body: FaqIn) -> Status[dict[str, Any]]:
    entry = faq_actions.create_entry(
        _actor(request), texts=_texts(body), tags=body.tags, public=body.public
    )
    return Status(201, _faq_out(entry))


@router.put("/faq/{entry_id}", response=FaqOut)
@api_rule(Rule.FAQ_EDITING)
def edit_faq(request: HttpRequest, entry_id: uuid.UUID, body: FaqIn) -> dict[str, Any]:
    actor = _actor(request)
    entry = selectors.faq_entry(actor, entry_id)
    return _faq_out(
        faq_actions.edit_entry(actor, entry, texts=_texts(body), tags=body.tags, public=body.public)
    )


@router.post("/faq/{entry_id}/{change}", response=FaqOut)
@api_rule(Rule.FAQ_APPROVAL)
def review_faq(
    request: HttpRequest, entry_id: uuid.UUID, change: Literal["approve", "retire"]
) -> dict[str, Any]:
    actor = _actor(request)
    entry = selectors.faq_entry(actor, entry_id)
    if change == "approve":
        return _faq_out(faq_actions.approve_entry(actor, entry))
    return _faq_out(faq_actions.retire_entry(actor, entry))


@router.post("/feedback/{feedback_id}/faq", response={201: FaqOut})
@api_rule(Rule.FEEDBACK)
def faq_from_feedback(request: HttpRequest, feedback_id: uuid.UUID) -> Status[dict[str, Any]]:
    """A draft FAQ entry from a question asked in feedback, linked to it."""
    actor = _actor(request)
    item = selectors.feedback_for_change(actor, feedback_id)
    return Status(201, _faq_out(faq_actions.draft_from_feedback(actor, item)))


class LinkIn(InputSchema):
    faq_entry: uuid.UUID


@router.post("/feedback/{feedback_id}/link-faq", response=FeedbackOut)
@api_rule(Rule.FEEDBACK)
def link_faq(request: HttpRequest, feedback_id: uuid.UUID, body: LinkIn) -> dict[str, Any]:
    """Count a question asked again under the entry that answers it."""
    actor = _actor(request)
    item = selectors.feedback_for_change(actor, feedback_id)
    entry = selectors.faq_entry(actor, body.faq_entry)
    return _out(faq_actions.link_question(actor, item, entry))
