"""What a text or a code may hold, decided once for every way in: web forms, API schemas,
imports and the care card all ask this module, so two channels cannot disagree.

Texts refuse control characters (Unicode category Cc: NUL, escape, ...) except tab and new
line where a field is multi-line, and the bidirectional overrides and isolates that can make a
text read differently from what it holds (U+202A-U+202E, U+2066-U+2069). The joiners Persian,
Pashto and Urdu need (ZWNJ U+200C, ZWJ U+200D) and the plain marks (LRM, RLM, ALM) stay.
"""

from __future__ import annotations

import unicodedata

import pycountry
from django.utils.translation import gettext

# Explicit embeddings, overrides and isolates: a reader may see another text than the stored one.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MULTILINE_ALLOWED = frozenset("\t\n\r")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why a text cannot be stored (a sentence for the person who typed it), or None."""
    allowed = MULTILINE_ALLOWED if multiline else frozenset()
    for character in value:
        if character in BIDI_CONTROLS:
            return gettext("Remove the invisible direction-control characters.")
        if character not in allowed and unicodedata.category(character) == "Cc":
            if character in MULTILINE_ALLOWED:
                return gettext("Keep this to one line.")
            return gettext("Remove the control characters (such as NUL).")
    return None


def is_language_code(code: str) -> bool:
    """An ISO 639-1 (two letters) or ISO 639-3 (three letters) code, in lower case."""
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha() and code.islower()):
        return False
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code) is not None
    if len(code) == 3:
        return pycountry.languages.get(alpha_3=code) is not None
    return False
