"""One-time links for partner organisations not on RouteCare: signed, expiring, used once.

The link carries a signed token naming the referral and a random secret; only the secret's
digest is stored. Recording the outcome uses the link up; after that, or after expiry, it
refuses. Issuing a new slip makes a new link and cancels the previous one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.core import fields
from routecare.referrals.models import Referral, ReferralResponse, ReferralStatus

SALT = "routecare.referrals.partner-link"
LINK_DAYS = 14


class LinkError(Exception):
    """The link is malformed, expired, used or replaced (one message for all: no oracle)."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def new_link_token(actor: Actor, referral: Referral) -> str:
    """A new link for the referral's partner; the previous one stops working."""
    if not referral.partner_name:
        raise ValueError("only referrals to a partner organisation have a partner link")
    secret = secrets.token_urlsafe(24)
    referral.partner_secret_digest = _digest(secret)
    referral.partner_link_expires_at = timezone.now() + dt.timedelta(days=LINK_DAYS)
    referral.partner_link_used_at = None
    referral.save(
        update_fields=["partner_secret_digest", "partner_link_expires_at", "partner_link_used_at"]
    )
    record_event(
        actor, "share", "referral", referral.pk, person_id=referral.person_id,
        fields=sorted(referral.shared), detail=f"partner link for {referral.partner_name}",
    )  # fmt: skip
    return signing.dumps({"r": str(referral.pk), "s": secret}, salt=SALT, compress=True)


def referral_for_link(token: str) -> Referral:
    """The referral a partner link opens, or LinkError."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=LINK_DAYS))
        referral_id = uuid.UUID(str(payload["r"]))
        secret = str(payload["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise LinkError from error
    referral = (
        Referral.objects.select_related("from_point", "from_society").filter(pk=referral_id).first()
    )
    if (
        referral is None
        or not referral.partner_secret_digest
        or not secrets.compare_digest(referral.partner_secret_digest, _digest(secret))
        or referral.partner_link_used_at is not None
        or referral.partner_link_expires_at is None
        or referral.partner_link_expires_at <= timezone.now()
    ):
        raise LinkError
    return referral


PARTNER_OUTCOMES = {
    "accepted": ReferralStatus.ACCEPTED,
    "declined": ReferralStatus.DECLINED,
    "completed": ReferralStatus.COMPLETED,
}


@transaction.atomic
def record_partner_outcome(token: str, outcome: str, note: str) -> Referral:
    """The partner's answer; the link is used up by it (not by a note refused)."""
    referral = referral_for_link(token)
    if outcome not in PARTNER_OUTCOMES:
        # A form without its answer is the partner's slip, not a used link: ask again.
        raise ValidationError(
            {"outcome": _("Choose what happened: accepted, completed or declined.")}
        )
    fields.REFERRAL_NOTE.check(note, "note")
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if locked.partner_link_used_at is not None:
        raise LinkError
    locked.status = PARTNER_OUTCOMES[outcome]
    locked.status_changed_at = timezone.now()
    locked.partner_link_used_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at", "partner_link_used_at"])
    ReferralResponse.objects.create(
        referral=locked, status=locked.status, note=note.strip() or None
    )
    return locked
