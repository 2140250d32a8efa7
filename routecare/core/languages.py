"""Country and language names in the reader's language, from the CLDR data in babel."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import format_decimal
from django.utils.translation import get_language

# Languages commonly spoken by people on the Americas and Western Balkans routes.
ROUTE_LANGUAGES = (
    "es", "en", "fr", "ht", "pt", "ar", "fa", "ps", "ur", "ku", "tr", "ru", "uk",
    "bn", "hi", "zh", "so", "ti", "am", "wo", "ln", "sw", "qu",
)  # fmt: skip


# CLDR regions that are not countries: unknown, EU, eurozone, UN, outlying Oceania, pseudo.
NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes of countries and territories known to CLDR."""
    codes = (str(code) for code in Locale.parse("en").territories)
    return frozenset(
        code for code in codes if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    )


def _locale() -> Locale:
    return Locale.parse(get_language() or "en", sep="-")


def country_choices() -> list[tuple[str, str]]:
    territories = _locale().territories
    known = country_codes()
    return sorted(
        ((code, name) for code, name in territories.items() if code in known),
        key=lambda item: item[1],
    )


def language_choices() -> list[tuple[str, str]]:
    names = _locale().languages
    return sorted(((code, names.get(code, code)) for code in ROUTE_LANGUAGES), key=lambda i: i[1])


def country_name(code: str) -> str:
    return str(_locale().territories.get(code, code)) if code else ""


def language_name(code: str) -> str:
    return str(_locale().languages.get(code, code))


def country_name_in(code: str, language: str) -> str:
    """A country's name in a given language (for pages in a person's language)."""
    if language in NAMES_FROM_CATALOGUE:
        return _catalogue_name("country", country_name_in(code, "en"), code, language)
    try:
        return str(Locale.parse(language).territories.get(code, code))
    except (ValueError, LookupError):
        return country_name(code)


def language_name_in(code: str, language: str) -> str:
    """A language's name in a given language; each language names itself in pickers."""
    if language in NAMES_FROM_CATALOGUE and code != language:
        return _catalogue_name("language", language_name_in(code, "en"), code, language)
    try:
        return str(Locale.parse(language).languages.get(code, code))
    except (ValueError, LookupError):
        return language_name(code)


def number_in(value: float | Decimal | int, language: str) -> str:
    """A number as people of a language write it, without a useless ".0" ("2", "5,5")."""
    try:
        return str(format_decimal(value, format="#,##0.#", locale=language))
    except (ValueError, LookupError):
        return str(format_decimal(value, format="#,##0.#", locale="en"))


# CLDR holds no country or language names of its own for Haitian Creole (babel answers in
# French): those people read come from the person catalogue (person.po, context "country" or
# "language", the English name as msgid); a name missing there falls back to CLDR's.
NAMES_FROM_CATALOGUE = frozenset({"ht"})


def _catalogue_name(context: str, english: str, code: str, language: str) -> str:
    import gettext

    from routecare.core.person_texts import DOMAIN, LOCALE_DIR

    catalogue = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)
    translated = catalogue.pgettext(context, english)
    if translated != english:
        return translated
    names = Locale.parse(language)
    found = (names.territories if context == "country" else names.languages).get(code, english)
    return str(found)


# Lists in the reader's language: Arabic, Farsi, Pashto and Urdu separate items with the
# Arabic comma (and semicolon), not the Latin one inside right-to-left text.
ARABIC_SCRIPT = frozenset({"ar", "fa", "ps", "ur"})


def comma(language: str) -> str:
    """The separator of a list's items in ``language``: ", " or "، "."""
    return "، " if language in ARABIC_SCRIPT else ", "


def semicolon(language: str) -> str:
    """The separator of groups of items in ``language``: "; " or "؛ "."""
    return "؛ " if language in ARABIC_SCRIPT else "; "


def join_list(items: Iterable[str], language: str) -> str:
    """``items`` joined with the language's comma: "a, b" or "a، b"."""
    return comma(language).join(items)


def join_groups(items: Iterable[str], language: str) -> str:
    """Groups of items (a day's periods, one day after another) joined with the language's
    semicolon: "a; b" or "a؛ b"."""
    return semicolon(language).join(items)
