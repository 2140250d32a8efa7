"""Issuing, revoking and reading care cards: atomic, audited."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticValidationError

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.cards import format, qr
from routecare.cards.build import MARKER, fit, summary_of
from routecare.cards.keys import (
    DatabaseKeys,
    KeyManagementError,
    check_not_revoked,
    issuing_keys,
)
from routecare.cards.models import Card, CarriedCard, NodeCertificate, RevokedSerial
from routecare.cards.summary import HEALTH_FIELDS, CardSummary, read_text, to_record
from routecare.core.prepared import Prepared
from routecare.directory.selectors import staff_point_with_code
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.people import actions as people_actions
from routecare.people import selectors as people_selectors
from routecare.people import shortcode
from routecare.people.models import Consent, ConsentPurpose, Person

SERIAL_BYTES = 8


def issue_card(actor: Actor, person: Person) -> Card:
    """A new card with the person's current summary; their previous card is superseded."""
    point = people_actions.working_point(actor, person)
    people_actions.require_care_consent(person)
    society = NationalSociety.objects.get(pk=actor.society_id)
    try:
        keys = issuing_keys(society)
        card_key, signing_key = keys.materials()
    except KeyManagementError as error:
        if settings.ROUTECARE_NODE:
            raise ValidationError(
                _(
                    "This field node has no certified card key: a focal point enrols it again "
                    "to issue cards here."
                )
            ) from error
        raise ValidationError(
            _(
                "Card keys are not set up yet: a system administrator runs "
                "`routecare card-keys init`."
            )
        ) from error
    consents = set(
        Consent.objects.filter(person=person, withdrawn_at__isnull=True).values_list(
            "purpose", flat=True
        )
    )
    now = timezone.now()
    serial = os.urandom(SERIAL_BYTES).hex()
    try:
        summary, shortened = summary_of(
            person,
            serial=serial,
            issued_at=now.replace(microsecond=0),  # the card carries whole seconds
            issued_at_point=point.code,
            consents=consents,
        )
    except PydanticValidationError as error:
        problems = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
        raise ValidationError(
            _("Part of this person's record cannot go on a card (%(fields)s): correct it first.")
            % {"fields": problems}
        ) from error

    def seal(candidate: CardSummary) -> str:
        record = to_record(candidate)
        return format.seal(
            record, network=keys.network_number, card_key=card_key, signing_key=signing_key
        )

    summary, text = fit(summary, seal, shortened)
    card = Card(
        serial=serial,
        person=person,
        national_society=society,
        issued_at_point=point,
        issued_by=actor.user,
        issued_at=now,
        card_key=keys.card_key,
        signing_key=keys.signing_key,
        node_certificate=keys.node_certificate,
        qr_text=text,
        qr_version=qr.version_of(text),
        dropped=summary.dropped,
    )
    with transaction.atomic():
        _keep_issued(actor, card, summary, "issued")
    return card


def _keep_issued(
    actor: Actor, card: Card, summary: CardSummary, detail: str, *, arrived: bool = False
) -> None:
    """Keep a new card and audit what it carries (issued here, or ``arrived`` from a field
    node). The person's open cards end, superseded, with the cards of other societies they
    carried: one person, one valid card along the route. A field node's card supersedes only
    the cards issued before it; arriving after a newer one, it is kept ended (superseded)."""
    older = Card.objects.select_for_update().filter(person=card.person, ended_at=None)
    newer = arrived and older.filter(issued_at__gt=card.issued_at).exists()
    if arrived:
        older = older.filter(issued_at__lte=card.issued_at)
    for previous in older:
        _end(actor, previous, RevokedSerial.Reason.SUPERSEDED)
    if not newer:
        _end_carried(actor, card.person, RevokedSerial.Reason.SUPERSEDED)
    card.save(force_insert=True)
    carried = [
        name
        for name, value in summary.model_dump(exclude={"dropped"}).items()
        if value not in (None, [], {})
    ]
    record_event(
        actor,
        "share",
        "card",
        card.serial,
        person_id=card.person_id,
        fields=carried,
        detail=detail + (f", left off {summary.dropped}" if summary.dropped else ""),
    )
    if newer:
        _end(actor, card, RevokedSerial.Reason.SUPERSEDED)


@dataclass(frozen=True)
class NodeCard:
    """A card issued offline at a field node, as the node sends it (``cards.sync``)."""

    person_id: uuid.UUID
    serial: str
    issued_at: dt.datetime
    issued_by: str  # the staff member's username
    card_key: str  # kids (hex), as the card names them
    node_certificate: str
    qr_text: str
    ended: tuple[str, ...] = ()  # why it ended at the node, if it did


def receive_node_card(actor: Actor, node_id: uuid.UUID, card_id: uuid.UUID, sent: NodeCard) -> Card:
    """Keep a card a field node issued offline, as an issued card is kept (earlier cards
    superseded, audited), once its QR text reads and verifies: signed by this node's own
    certified key, not revoked when it arrives, under a card key of the network, for a person
    of the node's society at the node's point. The QR text is never logged nor echoed."""
    person = Person.objects.filter(pk=sent.person_id, national_society_id=actor.society_id).first()
    if person is None:
        raise ValidationError(_("No such person in this National Society."))
    point = people_actions.working_point(actor, person)
    keys = DatabaseKeys(actor.network_id)
    try:
        _unsealed, summary = read_text(sent.qr_text, keys)
    except format.CardError as error:
        raise ValidationError(
            _("The card's QR text does not verify (%(reason)s): the card was not kept.")
            % {"reason": error.code}
        ) from None
    certificate = _sending_node_certificate(keys, node_id, summary.serial)
    card_key = keys.card_key_used
    said = (
        sent.serial,
        sent.card_key,
        sent.node_certificate,
        sent.issued_at.replace(microsecond=0),
    )
    read = (summary.serial, card_key.kid if card_key else "", certificate.kid, summary.issued_at)
    same_person = shortcode.normalise(summary.short_code) == shortcode.normalise(person.short_code)
    if said != read or not same_person or summary.issued_at_point != point.code:
        raise ValidationError(
            _("The card's QR text does not match what the node sent with it: it was not kept.")
        )
    if Card.objects.filter(serial=summary.serial).exists():
        raise ValidationError(_("A card with this serial exists already: it was not kept again."))
    card = Card(
        id=card_id, serial=summary.serial, person=person, national_society_id=actor.society_id,
        issued_at_point=point, issued_by=_issuer(actor, sent.issued_by), issued_at=sent.issued_at,
        card_key=card_key, node_certificate=certificate, qr_text=sent.qr_text,
        qr_version=qr.version_of(sent.qr_text), dropped=summary.dropped,
    )  # fmt: skip
    with transaction.atomic():
        _keep_issued(actor, card, summary, f"issued at field node {node_id}", arrived=True)
        reason = _end_reason(sent.ended) or _withdrawn_since(person, summary)
        if card.ended_at is None and reason:
            _end(actor, card, reason)
    return card


def _sending_node_certificate(
    keys: DatabaseKeys, node_id: uuid.UUID, serial: str
) -> NodeCertificate:
    """The certificate of the node that sends the card, which must have signed it. Read
    afresh and locked (readers' copy may be a minute old): a revocation at the same moment
    either waits for this card, and keeps it valid, or comes first, and this card is refused."""
    used = keys.node_certificate_used
    if used is None:
        raise ValidationError(
            _("A field node sends only the cards signed by its own key, never a society's.")
        )
    certificate = NodeCertificate.objects.select_for_update().filter(pk=used.pk).first()
    if certificate is None or certificate.node_id != node_id:
        raise ValidationError(
            _("This card is signed by another field node's key: a node sends only its own cards.")
        )
    if certificate.revoked_at is not None and serial not in (certificate.allowed_serials or []):
        raise ValidationError(
            _(
                "This node was revoked before the card reached the server: the card is not "
                "valid and was not kept."
            )
        )
    return certificate


def _issuer(actor: Actor, username: str) -> Any:
    """Who issued it at the node: a staff member of the actor's society, else the actor."""
    if username and username != actor.user.get_username():
        found = User.objects.filter(
            username=username, membership__national_society_id=actor.society_id
        ).first()
        if found is not None:
            return found
    return actor.user


def _end_reason(reasons: tuple[str, ...] | list[str]) -> str:
    valid = [str(reason) for reason in reasons if reason in RevokedSerial.Reason.values]
    return valid[0] if valid else ""


def _withdrawn_since(person: Person, summary: CardSummary) -> str:
    """A consent the card stands on, withdrawn here meanwhile: the card is ended on arrival,
    as withdrawing would have ended it (``cancel_cards_on_withdrawal``)."""
    given = set(
        Consent.objects.filter(person=person, withdrawn_at__isnull=True).values_list(
            "purpose", flat=True
        )
    )
    needed = {ConsentPurpose.CARE} | (
        set(summary.consents) & {ConsentPurpose.SHARE_NETWORK, ConsentPurpose.SHARE_PARTNERS}
    )
    return RevokedSerial.Reason.WITHDRAWN if needed - given else ""


def end_node_card(actor: Actor, card: Card, reasons: list[str]) -> Card:
    """A card ended at a field node (superseded there, lost, stolen) ends here too, with the
    node's reason. A card ends once: ended here already, it stays as it is; nothing un-ends it."""
    people_actions.working_point(actor, card.person)
    reason = _end_reason(reasons)
    with transaction.atomic():
        locked = Card.objects.select_for_update().select_related("national_society").get(pk=card.pk)
        if locked.ended_at is None and reason:
            _end(actor, locked, reason)
    return locked


def _end_carried(actor: Actor, person: Person, reason: str) -> None:
    """Cards from other societies this person carried stop being accepted too: one person,
    one valid card along the route."""
    for carried in CarriedCard.objects.filter(person=person).select_related("issuer"):
        _, created = RevokedSerial.objects.get_or_create(
            network_id=carried.issuer.network_id,
            serial=carried.serial,
            defaults={"reason": reason, "national_society_id": actor.society_id},
        )
        if created:
            record_event(
                actor, "change", "card", carried.serial, person_id=person.pk,
                detail=f"ended card of {carried.issuer.country_code}: {reason}",
            )  # fmt: skip


def _end(actor: Actor, card: Card, reason: str) -> None:
    card.ended_at = timezone.now()
    card.save(update_fields=["ended_at"])
    network_id = card.national_society.network_id
    RevokedSerial.objects.get_or_create(
        network_id=network_id,
        serial=card.serial,
        defaults={"reason": reason, "national_society_id": card.national_society_id},
    )
    record_event(
        actor, "change", "card", card.serial, person_id=card.person_id, detail=f"ended: {reason}"
    )


def cancel_cards_on_withdrawal(actor: Actor, person: Person, purpose: str, **_: Any) -> None:
    """Withdrawing consent to share (or to care) takes effect at once on the card too: the
    card in the person's hand stops being accepted anywhere in the network."""
    if purpose not in (ConsentPurpose.SHARE_NETWORK, ConsentPurpose.SHARE_PARTNERS, "care"):
        return
    for card in (
        Card.objects.select_for_update()
        .select_related("national_society")
        .filter(person=person, ended_at=None)
    ):
        _end(actor, card, RevokedSerial.Reason.WITHDRAWN)
    _end_carried(actor, person, RevokedSerial.Reason.WITHDRAWN)


def revoke_cards_of_people(person_ids: list[uuid.UUID], reason: str) -> int:
    """Put every card of these people on their networks' revocation lists at once, their
    own and those of other societies they carried (before their records are deleted: the
    caller audits); how many serials were listed."""
    own = Card.objects.filter(person_id__in=person_ids, ended_at=None).values_list(
        "national_society__network_id", "serial", "national_society_id"
    )
    carried = CarriedCard.objects.filter(person_id__in=person_ids).values_list(
        "issuer__network_id", "serial", "person__national_society_id"
    )
    entries = [*own, *carried]
    RevokedSerial.objects.bulk_create(
        [
            RevokedSerial(
                network_id=network, serial=serial, national_society_id=society, reason=reason
            )
            for network, serial, society in entries
        ],
        ignore_conflicts=True,
    )
    return len(entries)


def revoke_card(actor: Actor, card: Card, reason: str) -> Card:
    """Put a lost or stolen card on the network's revocation list at once (an ended card stays
    as it is, and the attempt is audited)."""
    people_actions.working_point(actor, card.person)
    if reason not in (RevokedSerial.Reason.LOST, RevokedSerial.Reason.STOLEN):
        raise ValidationError({"reason": _("Say whether the card was lost or stolen.")})
    with transaction.atomic():
        locked = Card.objects.select_for_update().select_related("national_society").get(pk=card.pk)
        if locked.ended_at is None:
            _end(actor, locked, reason)
            _end_carried(actor, locked.person, reason)
        else:
            record_event(
                actor, "read", "card", locked.serial, person_id=locked.person_id,
                detail=f"already ended; asked to revoke as {reason}",
            )  # fmt: skip
    return locked


@dataclass(frozen=True)
class CardReading:
    """A card as its reader may see it."""

    summary: CardSummary
    issuer: NationalSociety
    issued_at_point: ServicePoint | None
    health_only: bool
    # The reader's own record with the card's short code, if their society has one.
    local_person: Person | None

    def visible(self) -> dict[str, Any]:
        if self.health_only:
            return self.summary.health_part()
        return self.summary.model_dump(mode="json")


def read_card(actor: Actor, text: str) -> CardReading:
    """Verify, decrypt and check a card; raises ``format.CardError`` saying why it cannot be
    read. Every attempt is audited, refused ones too."""
    if not actor.reads_cards:
        raise PermissionError("this role does not read cards")
    keys = DatabaseKeys(actor.network_id)
    try:
        _unsealed, summary = read_text(text, keys)
        check_not_revoked(actor.network_id, summary.serial)
        keys.check_node_serial(summary.serial)
        if actor.reads_health_part_only and ConsentPurpose.SHARE_PARTNERS not in summary.consents:
            raise format.CardError("no_partner_consent")
    except format.CardError as error:
        record_event(actor, "read", "card", "", detail=f"refused: {error.code}")
        raise
    if keys.signing_key_used is None:  # pragma: no cover - set by every successful unseal
        raise format.CardError("untrusted_signer")
    issuer = keys.signing_key_used.national_society
    local = _local_person(actor, issuer, summary)
    reading = CardReading(
        summary=summary,
        issuer=issuer,
        # Named only if the reader may see that point in the directory (and never to partners).
        issued_at_point=None
        if actor.reads_health_part_only
        else staff_point_with_code(actor, issuer.pk, summary.issued_at_point),
        health_only=actor.reads_health_part_only,
        local_person=local,
    )
    record_event(
        actor,
        "read",
        "card",
        summary.serial,
        person_id=local.pk if local is not None else None,
        fields=list(HEALTH_FIELDS) if reading.health_only else sorted(CardSummary.model_fields),
        detail=f"issued by {issuer.country_code} at {summary.issued_at_point}",
    )
    return reading


def _local_person(actor: Actor, issuer: NationalSociety, summary: CardSummary) -> Person | None:
    """The reader's own record of the card's person: the issuer's own record found by its
    code, or, in another society, a record linked to a card of this issuer with this code.
    A code alone never links two societies' records: codes are unique per society only."""
    if not actor.handles_personal_records:
        return None
    if issuer.pk == actor.national_society_id:
        return people_selectors.record_with_code(actor, summary.short_code)
    if actor.national_society_id is None:
        return None
    link = _CARRIED.first(
        society=actor.national_society_id, issuer=issuer.pk, code=summary.short_code
    )
    if link is None:
        return None
    person = people_selectors.person_to_record(actor, link[0])
    CarriedCard.objects.get_or_create(
        person=person,
        serial=summary.serial,
        defaults={"issuer": issuer, "short_code": summary.short_code},
    )
    return person


# A card of another society shown here: is there a record of ours linked to a card of that
# issuer with that code? Asked on half the card reads of a network, compiled once.
_CARRIED: Prepared[tuple[uuid.UUID]] = Prepared(
    lambda society, issuer, code: (
        CarriedCard.objects.filter(
            person__national_society_id=society, issuer_id=issuer, short_code=code
        )
        .order_by("pk")
        .values_list("person_id")[:1]
    ),
    society=uuid.UUID,
    issuer=uuid.UUID,
    code=str,
)


def start_record_from_card(
    actor: Actor, text: str, *, consent_language: str, travel_group: str
) -> Person:
    """Register, in the reader's society, the person a card from another society describes:
    same short code, the profile and health the card carries. Care consent is asked here."""
    reading = read_card(actor, text)
    if reading.local_person is not None:
        return reading.local_person
    summary = reading.summary
    if summary.sex is None or summary.age_band is None:
        raise ValidationError(
            _("This card carries only its code: register the person with their answers.")
        )
    # The same code as on the card, unless another person here already has it.
    code_free = not Person.objects.filter(
        national_society_id=actor.national_society_id, short_code=summary.short_code
    ).exists()
    try:
        with transaction.atomic():
            person = people_actions.register_person(
                actor,
                short_code=summary.short_code if code_free else None,
                sex=summary.sex,
                age_band=summary.age_band,
                birth_year=summary.birth_year,
                languages=summary.languages,
                travel_group=travel_group,
                consent_language=consent_language,
            )
            health = {
                "allergies": list(summary.allergies),
                "conditions": list(summary.conditions),
                "medicines": [
                    {
                        "name": m.name,
                        "dose": m.dose,
                        "days_supply": m.days_left,
                        # Days left were counted on the day the card was issued.
                        "dispensed_on": summary.issued_at.date().isoformat(),
                    }
                    for m in summary.medicines
                ],
                "pregnancy": summary.pregnancy.model_dump(mode="json")
                if summary.pregnancy
                else None,
            }
            # Judged around the time the card was issued: what was valid then stays valid.
            people_actions.update_health_summary_as_of(
                actor, person, summary.issued_at, {k: v for k, v in health.items() if v}
            )
            CarriedCard.objects.create(
                person=person,
                issuer=reading.issuer,
                short_code=summary.short_code,
                serial=summary.serial,
            )
            # What earlier points asked the next one to do becomes this point's to-do list.
            for follow_up in summary.follow_ups:
                people_actions.add_follow_up(
                    actor,
                    person,
                    people_actions.FollowUpInput(
                        _with_marker(f"{summary.issued_at_point}: {follow_up.text}", 500),
                        follow_up.due
                        if follow_up.due and follow_up.due >= timezone.now().date()
                        else None,
                        follow_up.urgency,
                    ),
                )
    except IntegrityError:
        # Started at the same moment on another device: the record exists now.
        existing = _local_person(actor, reading.issuer, summary)
        if existing is None:
            raise
        return existing
    return person


def _with_marker(text: str, longest: int) -> str:
    """A text within ``longest`` characters, shortened with the card's marker, never silently."""
    return text if len(text) <= longest else text[: longest - 1] + MARKER
