"""Pre-registration codes: their own P- shape, the people codes' alphabet and check symbol."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from routecare.people import shortcode
from routecare.preregistration import codes

SHAPE = re.compile(r"P-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{3}")


def test_a_code_has_its_own_prefix_and_a_valid_check_symbol() -> None:
    compact = codes.derive("a-form-token-of-the-person")
    assert shortcode.is_valid(compact)
    assert SHAPE.fullmatch(codes.format_code(compact))


def test_the_same_form_token_always_gets_the_same_code_and_another_token_another() -> None:
    assert codes.derive("token-one-0123456789") == codes.derive("token-one-0123456789")
    assert codes.derive("token-one-0123456789") != codes.derive("token-two-0123456789")
    assert codes.derive("token-one-0123456789", 1) != codes.derive("token-one-0123456789", 0)


def test_a_code_is_read_however_it_is_typed() -> None:
    compact = codes.derive("typed-in-many-ways-0")
    shown = codes.format_code(compact)
    for typed in (shown, shown.lower(), shown.replace("-", " "), compact, f" {shown} "):
        assert codes.parse(typed) == compact


def test_a_single_wrong_symbol_is_caught_as_a_typo() -> None:
    compact = codes.derive("one-symbol-wrong-000")
    for position in range(len(compact)):
        for symbol in shortcode.ALPHABET:
            if symbol == compact[position]:
                continue
            typo = compact[:position] + symbol + compact[position + 1 :]
            with pytest.raises(codes.CodeError) as caught:
                codes.parse(f"P-{typo}")
            assert caught.value.problem is codes.Problem.TYPO


def test_a_person_short_code_is_never_taken_for_a_pre_registration() -> None:
    with pytest.raises(codes.CodeError) as caught:
        codes.parse("RC-7K3M-9Q4")
    assert caught.value.problem is codes.Problem.PERSON_CODE


@pytest.mark.parametrize("typed", ["", "P-", "hello", "P-7K3M-9Q4X", "P-UUUU-UUU", "💥" * 40])
def test_what_cannot_be_a_code_is_called_malformed(typed: str) -> None:
    with pytest.raises(codes.CodeError) as caught:
        codes.parse(typed)
    assert caught.value.problem is codes.Problem.MALFORMED


def test_the_digest_depends_on_the_lookup_key() -> None:
    compact = codes.derive("keyed-digest-token-0")
    first = codes.digest(compact)
    assert compact not in first
    with override_settings(ROUTECARE_LOOKUP_KEY="another key"):
        assert codes.digest(compact) != first


def test_without_a_lookup_key_no_code_is_made() -> None:
    with override_settings(ROUTECARE_LOOKUP_KEY=""):
        assert not codes.available()
        with pytest.raises(RuntimeError):
            codes.derive("no-key-token-0000000")
