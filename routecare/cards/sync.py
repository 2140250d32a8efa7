"""What a field node pulls of the cards app, after its network and societies (orgs): the
network's card keys (to read and issue cards offline), the trust list (the societies' public
signing keys, never their private halves), the node certificates with their revocations and
the serials that stay valid, and the revocation list."""

from __future__ import annotations

from typing import Any

from routecare.cards.models import CardKey, NodeCertificate, RevokedSerial, SigningKey
from routecare.sync.registry import Reference, register_reference


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
