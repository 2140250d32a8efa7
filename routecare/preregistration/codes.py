"""Pre-registration codes such as ``P-7K3M-9Q4``.

The body and its check symbol are those of person short codes (``people.shortcode``: six
symbols of Crockford's base-32, which is read aloud without ambiguity, and a Luhn mod N check
symbol that catches every single wrong symbol and most swaps of neighbours); the prefix ``P``
keeps the two kinds apart, so a pre-registration code is never taken for a person's ``RC-`` code.

A code is derived from the form's one-time token with a keyed HMAC (``ROUTECARE_LOOKUP_KEY``),
so the server never stores it and a form sent twice gets the same code back; the row is found by
another keyed digest of the code. Without the key, neither a form token nor a stolen table of
digests gives a code away.
"""

from __future__ import annotations

import enum
import hashlib
import hmac

from django.conf import settings

from routecare.people import shortcode

PREFIX = "P"
# A second draw for the rare form whose first code another form already holds.
MAX_ATTEMPTS = 8


class Problem(enum.Enum):
    MALFORMED = "malformed"  # not the shape of a code at all
    PERSON_CODE = "person-code"  # a person's RC- short code
    TYPO = "typo"  # the shape of a code whose check symbol fails


class CodeError(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def available() -> bool:
    """Codes need the lookup key: without it a digest would be a plain hash, reversed by
    trying the billion codes."""
    return bool(settings.ROUTECARE_LOOKUP_KEY)


def _mac(message: str) -> bytes:
    if not available():
        raise RuntimeError("ROUTECARE_LOOKUP_KEY is not set")
    key = settings.ROUTECARE_LOOKUP_KEY.encode()
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def derive(form_token: str, attempt: int = 0) -> str:
    """The compact code (7 symbols) a form token gets at its ``attempt``-th draw."""
    mac = _mac(f"preregistration-code|{attempt}|{form_token}")
    # 256 is a multiple of 32: each symbol is uniform.
    body = "".join(shortcode.ALPHABET[byte % 32] for byte in mac[: shortcode.BODY_LENGTH])
    return body + shortcode.check_symbol(body)


def digest(compact: str) -> str:
    """What a pre-registration is found by."""
    return _mac(f"preregistration|{compact}").hex()


def submission_digest(form_token: str) -> str:
    return _mac(f"preregistration-form|{form_token}").hex()


def format_code(compact: str) -> str:
    return shortcode.format_code(compact, PREFIX)


def parse(typed: str) -> str:
    """The compact code in what was typed or scanned, or a ``CodeError`` saying why not."""
    typed = typed[:40]
    compact = shortcode.normalise(typed, PREFIX)
    letters = "".join(ch for ch in typed.upper() if ch.isalnum())
    if letters.startswith(shortcode.PREFIX) and shortcode.normalise(typed) is not None:
        raise CodeError(Problem.PERSON_CODE)
    if compact is None:
        raise CodeError(Problem.MALFORMED)
    if not shortcode.is_valid(compact):
        raise CodeError(Problem.TYPO)
    return compact
