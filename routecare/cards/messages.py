"""What staff are told when a card or a photo cannot be read: one clear message per reason."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

READ_ERRORS: dict[str, Promise] = {
    "not_routecare": _(
        "This is not a RouteCare card. Scan the code on the care card, or type the short code "
        "printed under it."
    ),
    "unsupported_version": _(
        "This card uses a newer format than this RouteCare knows. Update RouteCare, or type the "
        "short code."
    ),
    "damaged": _(
        "The code is damaged or incomplete. Scan it again in better light, or type the short code."
    ),
    "unknown_network": _("This card belongs to a network this RouteCare does not know."),
    "wrong_network": _(
        "This card was issued in a network your National Society is not part of: it cannot be "
        "read here."
    ),
    "unknown_key": _(
        "This card was made with a key this RouteCare does not have. If the network's keys "
        "changed recently, update them and try again."
    ),
    "retired_key": _(
        "This card was made with a key that has been retired: it is no longer valid. Issue a new "
        "card."
    ),
    "not_authentic": _(
        "The code does not check out: it was damaged or altered. Do not rely on it; type the "
        "short code or issue a new card."
    ),
    "untrusted_signer": _(
        "The card's issuer is not on the network's trust list. Do not rely on this card."
    ),
    "bad_signature": _(
        "The card's signature is not valid: it was altered. Do not rely on this card."
    ),
    "revoked": _(
        "This card was reported lost or stolen and is no longer valid. If it belongs to the person "
        "in front of you, type their short code or issue a new card."
    ),
    "superseded": _(
        "This card was replaced by a newer one. Ask for the latest card, or type the short code."
    ),
    "withdrawn": _(
        "The person withdrew their consent to share this card: it is no longer valid. Ask what "
        "they agree to now, or type the short code."
    ),
    "node_revoked": _(
        "This card was signed by a field node that has since been revoked (lost or stolen), and "
        "it is not one of the cards that node issued before: do not rely on it. Type the short "
        "code or issue a new card."
    ),
    "no_partner_consent": _(
        "The person did not agree to share their card with partner organisations."
    ),
}

PHOTO_ERRORS: dict[str, Promise] = {
    "empty": _("Choose a photo of the card."),
    "too_large": _("The photo is too large (12 MB at most)."),
    "not_an_image": _("That file is not a photo we can read (use JPEG, PNG or WebP)."),
    "no_code": _(
        "No QR code found in the photo. Take it again closer, flat and in good light, or type the "
        "short code."
    ),
}


def read_error(code: str) -> str:
    return str(READ_ERRORS.get(code, READ_ERRORS["damaged"]))


def photo_error(code: str) -> str:
    return str(PHOTO_ERRORS.get(code, PHOTO_ERRORS["not_an_image"]))


# The lists of a card (key 19 names them), labelled as on the card pages.
LIST_LABELS: dict[str, Promise] = {
    "languages": _("Languages spoken"),
    "allergies": _("Allergies"),
    "conditions": _("Chronic conditions"),
    "medicines": _("Medicines"),
    "pregnancy": _("Pregnancy"),
    "child_growth": _("Child growth"),
    "vaccinations": _("Vaccinations"),
    "encounters": _("Encounters"),
    "follow_ups": _("Follow-ups"),
}


def list_label(name: str) -> str:
    return str(LIST_LABELS.get(name, name))
