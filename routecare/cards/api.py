"""Care cards over the API: issue, fetch, revoke, and read a card's QR text or photo."""

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.files import UploadedFile
from ninja.params import functions as params
from ninja.responses import Status

from routecare.access import Actor, Rule, api_rule
from routecare.cards import actions, qr, selectors
from routecare.cards.actions import CardReading
from routecare.cards.format import CardError
from routecare.cards.messages import photo_error, read_error
from routecare.cards.models import Card
from routecare.core.api_errors import InvalidInputOut
from routecare.core.fields import InputSchema
from routecare.people import selectors as people_selectors
from routecare.referrals.models import Referral

router = Router(tags=["cards"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


class CardOut(Schema):
    serial: str
    issued_at: dt.datetime
    issued_at_point: str
    qr_text: str
    qr_version: int
    dropped: dict[str, int]

    @staticmethod
    def resolve_issued_at_point(card: Card) -> str:
        return card.issued_at_point.code

    @staticmethod
    def resolve_qr_text(card: Card) -> str:
        return str(card.qr_text)


class RevokeIn(InputSchema):
    reason: Literal["lost", "stolen"]


class ReadIn(InputSchema):
    text: str = Field(..., min_length=1, max_length=4400)


class Issuer(Schema):
    name: str
    country_code: str


class ExpectedReferralOut(Schema):
    """An open referral to the reader's society for this person, as on the read-a-card page."""

    id: uuid.UUID
    type: str
    service: str
    urgency: str
    status: str
    due: dt.date | None
    from_society: str
    from_point: str

    @staticmethod
    def resolve_from_society(referral: Referral) -> str:
        return referral.from_society.name

    @staticmethod
    def resolve_from_point(referral: Referral) -> str:
        return referral.from_point.name


class ReadingOut(Schema):
    kind: Literal["card"] = "card"
    issuer: Issuer
    issued_at_point_name: str | None
    health_only: bool
    # The reader's own record with the card's short code, if their society has one.
    local_person_id: uuid.UUID | None
    summary: dict[str, Any]
    # Protection referrals only for staff with the protection role; none for partners.
    expected_referrals: list[ExpectedReferralOut]


class ShortCodeOut(Schema):
    """A typed short code: the reader's own record with it, and referrals expected here."""

    kind: Literal["short_code"] = "short_code"
    local_person_id: uuid.UUID | None
    expected_referrals: list[ExpectedReferralOut]


class CardProblem(Schema):
    code: str
    detail: str


def _reading_out(actor: Actor, reading: CardReading) -> dict[str, Any]:
    return {
        "kind": "card",
        "expected_referrals": selectors.expected_referrals(actor, reading.summary.short_code),
        "issuer": {"name": reading.issuer.name, "country_code": reading.issuer.country_code},
        "issued_at_point_name": reading.issued_at_point.name if reading.issued_at_point else None,
        "health_only": reading.health_only,
        "local_person_id": reading.local_person.pk if reading.local_person else None,
        "summary": reading.visible(),
    }


@router.post("/people/{person_id}/card", response={201: CardOut})
@api_rule(Rule.PERSONAL_RECORDS)
def issue_card(request: HttpRequest, person_id: str) -> Status[Card]:
    """Issue a card with the person's current summary; their previous card is superseded."""
    actor = _actor(request)
    person = people_selectors.get_person(actor, person_id)
    return Status(201, actions.issue_card(actor, person))


@router.get("/people/{person_id}/card", response=CardOut)
@api_rule(Rule.PERSONAL_RECORDS)
def current_card(request: HttpRequest, person_id: str) -> Card:
    """The person's valid card (404 if none)."""
    actor = _actor(request)
    person = people_selectors.get_person(actor, person_id)
    card = selectors.current_card(actor, person)
    if card is None:
        raise Http404
    selectors.summary_of_card(actor, card, purpose="api")
    return card


@router.post("/people/{person_id}/card/revoke", response=CardOut)
@api_rule(Rule.PERSONAL_RECORDS)
def revoke_card(request: HttpRequest, person_id: str, body: RevokeIn) -> Card:
    """Put the person's latest card, if still valid, on the network's revocation list; their
    latest card is returned either way (404 if they never had one)."""
    actor = _actor(request)
    person = people_selectors.person_for_change(actor, person_id)
    card = selectors.latest_card(actor, person)
    if card is None:
        raise Http404
    return actions.revoke_card(actor, card, body.reason)


# A card that cannot be read is a CardProblem; a body that does not fit the schema is answered
# like everywhere else.
CARD_REFUSED: Any = CardProblem | InvalidInputOut


READ_OUT: Any = ReadingOut | ShortCodeOut
# Why a typed short code is refused, beside the card format's reasons (docs/card-format.md).
SHORT_CODE_REASONS = frozenset({"unknown_short_code", "short_code_not_for_partners"})


@router.post("/cards/read", response={200: READ_OUT, 422: CARD_REFUSED})
@api_rule(Rule.CARD_READING)
def read_card(request: HttpRequest, body: ReadIn) -> Status[dict[str, Any]]:
    """Verify, decrypt and check a card's QR text, or look up a typed short code as the
    read-a-card page does (``kind`` says which). Either lists the referrals expected here.
    What cannot be read answers 422 with a ``code`` naming the reason and a translated
    ``detail`` (``unknown_short_code``; ``short_code_not_for_partners``: partners scan)."""
    actor = _actor(request)
    text = body.text.strip()
    if selectors.is_short_code(text):
        if not actor.handles_personal_records:
            detail = str(selectors.SHORT_CODE_NOT_FOR_PARTNERS)
            return Status(422, {"code": "short_code_not_for_partners", "detail": detail})
        typed = selectors.look_up_typed_code(actor, text)
        if not typed.found:
            detail = str(selectors.SHORT_CODE_UNKNOWN)
            return Status(422, {"code": "unknown_short_code", "detail": detail})
        return Status(
            200,
            {
                "kind": "short_code",
                "local_person_id": typed.person.pk if typed.person else None,
                "expected_referrals": typed.expected,
            },
        )
    try:
        reading = actions.read_card(actor, text)
    except CardError as error:
        return Status(422, {"code": error.code, "detail": read_error(error.code)})
    return Status(200, _reading_out(actor, reading))


# Optional so that the access rule is checked before the upload: a missing photo is a 422.
OPTIONAL_PHOTO: Any = params.File(None)


@router.post("/cards/read-photo", response={200: ReadingOut, 422: CARD_REFUSED})
@api_rule(Rule.CARD_READING)
def read_card_photo(
    request: HttpRequest, photo: UploadedFile | None = OPTIONAL_PHOTO
) -> Status[dict[str, Any]]:
    """Read a card from a photo (multipart field ``photo``: JPEG, PNG, WebP; 12 MB at most)."""
    try:
        text = qr.read_photo(photo.read(qr.MAX_PHOTO_BYTES + 1) if photo is not None else b"")
    except qr.PhotoError as error:
        return Status(422, {"code": error.code, "detail": photo_error(error.code)})
    actor = _actor(request)
    try:
        reading = actions.read_card(actor, text)
    except CardError as error:
        return Status(422, {"code": error.code, "detail": read_error(error.code)})
    return Status(200, _reading_out(actor, reading))
