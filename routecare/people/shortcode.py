"""Short human-readable person codes such as ``RC-7K3M-9Q4``.

Six random symbols from Crockford's base-32 alphabet (no I, L, O, U) and one check symbol
computed with the Luhn mod N algorithm, which catches every single wrong symbol and most swaps
of neighbours. When a typed code fails the check, ``typo_candidates`` lists the valid codes one
substitution or one swap away, so staff can still find the person.

Who mints a code: the server draws one at random, never one it reserved for a field node; a
node, offline, takes the next code of the block the server reserved for it (refilled at each
sync, see ``people.sync``), so two places never mint the same code.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 6
PREFIX = "RC"
# Symbols people confuse when reading or typing, mapped as Crockford's decoding does.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def check_symbol(body: str) -> str:
    n = len(ALPHABET)
    total = 0
    factor = 2
    for symbol in reversed(body):
        addend = factor * ALPHABET.index(symbol)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def is_valid(compact: str) -> bool:
    return (
        len(compact) == BODY_LENGTH + 1
        and all(symbol in ALPHABET for symbol in compact)
        and check_symbol(compact[:-1]) == compact[-1]
    )


def draw() -> str:
    """A random code, nothing more: ``generate`` decides whether this place may use it."""
    body = "".join(secrets.choice(ALPHABET) for _n in range(BODY_LENGTH))
    return format_code(body + check_symbol(body))


def generate() -> str:
    """The code for a person being registered here: on a field node the next code of its
    reserved block (marked used in the caller's transaction: if the registration rolls
    back, the code stays free); on the server a random code not reserved for any node."""
    # Imported here: cards and referrals read codes without needing the models.
    from routecare.people.models import ReservedShortCode

    if getattr(settings, "ROUTECARE_NODE", False):
        return _take_reserved()
    for _attempt in range(20):
        code = draw()
        if not ReservedShortCode.objects.filter(code=code).exists():
            return code
    raise RuntimeError("could not draw a short code that is not reserved")


def _take_reserved() -> str:
    from routecare.people.models import ReservedShortCode

    for _attempt in range(5):
        reserved = ReservedShortCode.objects.filter(used=False).order_by("reserved_at", "code")
        code = reserved.values_list("code", flat=True).first()
        if code is None:
            raise ValidationError(
                {"short_code": _("No short codes left at this node: sync to get more.")}
            )
        # Marked only if still free: another registration at this node may have taken it.
        if ReservedShortCode.objects.filter(code=code, used=False).update(used=True):
            return code
    raise RuntimeError("could not take a reserved short code")


def format_code(compact: str, prefix: str = PREFIX) -> str:
    """``prefix``: another kind of code with the same body (pre-registrations' ``P``)."""
    return f"{prefix}-{compact[:4]}-{compact[4:]}"


def normalise(typed: str, prefix: str = PREFIX) -> str | None:
    """The compact 7-symbol form of what someone typed, or None if it cannot be a code."""
    text = "".join(ch for ch in typed.upper() if ch.isalnum())
    if text.startswith(prefix) and len(text) == BODY_LENGTH + 1 + len(prefix):
        text = text[len(prefix) :]
    text = text.translate(_CONFUSABLE)
    if len(text) != BODY_LENGTH + 1 or any(symbol not in ALPHABET for symbol in text):
        return None
    return text


def typo_candidates(compact: str) -> list[str]:
    """Valid codes one substituted symbol or one swapped pair away from ``compact``."""
    found: set[str] = set()
    for position in range(len(compact)):
        for symbol in ALPHABET:
            if symbol != compact[position]:
                candidate = compact[:position] + symbol + compact[position + 1 :]
                if is_valid(candidate):
                    found.add(candidate)
    for position in range(len(compact) - 1):
        swapped = (
            compact[:position] + compact[position + 1] + compact[position] + compact[position + 2 :]
        )
        if swapped != compact and is_valid(swapped):
            found.add(swapped)
    return sorted(format_code(candidate) for candidate in found)
