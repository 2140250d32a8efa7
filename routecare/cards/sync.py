"""What the cards app syncs (see routecare.sync.registry).

Down to a field node, after its network and societies (orgs): the network's card keys (to
read and issue cards offline), the trust list (the societies' public signing keys, never their
private halves), the node certificates with their revocations and the serials that stay valid,
the revocation list, and the cards of the people the node holds.

Up from a node: the cards issued there, signed by the node's own certified key. The server
keeps one through ``actions.receive_node_card`` (checks, superseding, audit as for an issued
card); until then it does not know the card exists, and a revoked node's cards stay valid only
if they reached it. A card is immutable except its end: ``ended`` is the set of reasons it
ended for ([] while valid). A card ends once and nothing un-ends it; an end on both sides
(superseded here, lost at the node) is no conflict, the first end decides the reason on the
revocation list. The card key and node certificate a card names are made on the server and
pulled by nodes, never pushed: a card naming one the server does not know is refused, not
held; only a card before its person is held.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.models import AuditEvent
from routecare.cards import actions
from routecare.cards.models import Card, CardKey, NodeCertificate, RevokedSerial, SigningKey
from routecare.sync.ingest import origin_node
from routecare.sync.registry import Reference, Syncable, Values, register, register_reference

CARD_FIELDS = (
    "person", "serial", "issued_at", "issued_by", "card_key", "node_certificate", "qr_text",
    "ended",
)  # fmt: skip


def _network_id(node: Any) -> Any:
    return node.national_society.network_id


register_reference(
    Reference(
        "cards.cardkey",
        CardKey,
        lambda node: CardKey.objects.filter(network_id=_network_id(node)),
    )
)
register_reference(
    Reference(
        "cards.signingkey",
        SigningKey,
        lambda node: SigningKey.objects.filter(national_society__network_id=_network_id(node)),
        withheld=frozenset({"seed"}),
    )
)
register_reference(
    Reference(
        "cards.nodecertificate",
        NodeCertificate,
        lambda node: NodeCertificate.objects.filter(national_society__network_id=_network_id(node)),
    )
)
register_reference(
    Reference(
        "cards.revokedserial",
        RevokedSerial,
        lambda node: RevokedSerial.objects.filter(network_id=_network_id(node)),
    )
)


def _username(user: Any) -> str:
    return str(user.get_username()) if user is not None else ""


def _author(card: Card) -> str:
    """Who made the card's latest change: who ended it (at a node, a card issued elsewhere
    is ended by the staff member who issued its successor there), else who issued it."""
    if card.ended_at is not None:
        ender = (
            AuditEvent.objects.filter(
                object_type="card", object_id=card.serial, action="change", actor__isnull=False
            )
            .values_list("actor_username", flat=True)
            .first()
        )
        if ender:
            return str(ender)
    return _username(card.issued_by)


def _ended(card: Card) -> list[str]:
    if card.ended_at is None:
        return []
    reason = (
        RevokedSerial.objects.filter(serial=card.serial).values_list("reason", flat=True).first()
    )
    return [str(reason or RevokedSerial.Reason.SUPERSEDED)]


def serialize_card(card: Card) -> Values:
    return {
        "person": str(card.person_id),
        "serial": card.serial,
        "issued_at": card.issued_at.isoformat(),
        "issued_by": _username(card.issued_by),
        "card_key": card.card_key.kid,
        "node_certificate": card.node_certificate.kid if card.node_certificate else None,
        "qr_text": str(card.qr_text),
        "ended": _ended(card),
    }


def _text(values: Values, name: str, longest: int) -> str:
    value = values.get(name)
    if not isinstance(value, str) or not value or len(value) > longest:
        raise ValidationError({name: _("Missing or not valid.")})
    return value


def create_card(actor: Actor, record_id: uuid.UUID, values: Values) -> Card:
    node = origin_node()
    if node is None:
        raise ValidationError(_("Only a field node sends the cards it issued."))
    try:
        person_id = uuid.UUID(str(values.get("person")))
        issued_at = dt.datetime.fromisoformat(_text(values, "issued_at", 40))
    except ValueError as exc:
        raise ValidationError(_("Missing or not valid.")) from exc
    if issued_at.tzinfo is None:
        raise ValidationError({"issued_at": _("Missing or not valid.")})
    ended = values.get("ended") or []
    sent = actions.NodeCard(
        person_id=person_id,
        serial=_text(values, "serial", 16),
        issued_at=issued_at,
        issued_by=str(values.get("issued_by") or ""),
        card_key=_text(values, "card_key", 8),
        node_certificate=_text(values, "node_certificate", 8),
        qr_text=_text(values, "qr_text", 4000),
        ended=tuple(str(reason) for reason in ended) if isinstance(ended, list) else (),
    )
    return actions.receive_node_card(actor, node.pk, record_id, sent)


# What the card is: signed into it, or naming what signed it. ``issued_by`` is not: a node's
# copy of a card issued elsewhere may not know its issuer (staff of other points stay here).
SIGNED = frozenset({"person", "serial", "issued_at", "card_key", "node_certificate", "qr_text"})


def update_card(actor: Actor, card: Card, values: Values) -> Card:
    if set(values) & SIGNED:
        raise ValidationError(_("A card never changes once issued, except that it ends."))
    ended = values.get("ended")
    return actions.end_node_card(actor, card, ended if isinstance(ended, list) else [])


register(
    Syncable(
        label="cards.card", model=Card, fields=CARD_FIELDS,
        serialize=serialize_card, create=create_card, update=update_card,
        sets=frozenset({"ended"}),
        parents=lambda record_id, values: (
            [("people.person", str(values["person"]))] if values.get("person") else []
        ),
        author=_author, person_field="person_id",
    )
)  # fmt: skip
