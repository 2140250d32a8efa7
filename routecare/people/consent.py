"""The consent wording shown to a person, per purpose, versioned.

When the wording changes, raise ``WORDING_VERSION``: each consent records the version and the
language it was shown in.
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from routecare.core import person_texts
from routecare.people.models import ConsentPurpose

WORDING_VERSION = "2026-11"

WORDING: dict[str, Promise] = {
    ConsentPurpose.CARE: _(
        "The Red Cross / Red Crescent keeps a short record of the help you receive here, "
        "without your name, so that we can care for you. You can ask us to delete it."
    ),
    ConsentPurpose.SHARE_NETWORK: _(
        "Red Cross / Red Crescent teams in the next countries on your route may see your "
        "care summary, so you do not have to repeat your story."
    ),
    ConsentPurpose.SHARE_PARTNERS: _(
        "Partner organisations we refer you to (for example a clinic) may receive the "
        "information they need to help you."
    ),
    ConsentPurpose.MESSAGING: _(
        "We may send you messages (for example by WhatsApp) about services and your follow-up."
    ),
}

# The same sentences for the person to read, in the eight languages of people on the move.
PERSON_TEXT_KEYS: dict[str, str] = {
    ConsentPurpose.CARE: "consent_wording_care",
    ConsentPurpose.SHARE_NETWORK: "consent_wording_share_network",
    ConsentPurpose.SHARE_PARTNERS: "consent_wording_share_partners",
    ConsentPurpose.MESSAGING: "consent_wording_messaging",
}


def wording_for_person(language: str) -> dict[str, str]:
    """Each purpose's sentence in a person's language (``person_texts``), same version."""
    return {purpose: person_texts.text(key, language) for purpose, key in PERSON_TEXT_KEYS.items()}
