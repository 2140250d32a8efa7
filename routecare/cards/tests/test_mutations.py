"""Every change to a valid card is refused: bit flips, truncations, extensions and splices of
two cards, at the byte level and in the QR text. No mutation is ever read as a card."""

from __future__ import annotations

import datetime as dt

import base45
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routecare.cards import format
from routecare.cards.format import CardError
from routecare.cards.fuzzing import CARD_KEY, SIGNING_KEY, Keys
from routecare.cards.summary import CardSummary, from_record, to_record


def _card(serial: str, allergy: str) -> str:
    summary = CardSummary(
        short_code="RC-7K3M-9QE",
        serial=serial,
        issued_at=dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.UTC),
        issued_at_point="hnd-danli",
        consents=["care", "share-network"],
        sex="female",
        age_band="18-59",
        allergies=[allergy],
    )
    return format.seal(to_record(summary), network=1, card_key=CARD_KEY, signing_key=SIGNING_KEY)


CARD_A = _card("0123456789abcdef", "penicillin")
CARD_B = _card("fedcba9876543210", "latex")
BYTES_A = base45.b45decode(CARD_A[4:])
BYTES_B = base45.b45decode(CARD_B[4:])


def _refused(text: str) -> bool:
    try:
        unsealed = format.unseal(text, Keys())
        from_record(unsealed.record)
    except (CardError, ValueError):
        return True
    return False


def _text(raw: bytes) -> str:
    encoded: bytes = base45.b45encode(raw)
    return "RC1:" + encoded.decode("ascii")


def test_the_unchanged_cards_are_read() -> None:
    assert not _refused(CARD_A)
    assert not _refused(CARD_B)


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.sets(st.integers(0, len(BYTES_A) * 8 - 1), min_size=1, max_size=8))
def test_every_bit_flip_is_refused(bits: set[int]) -> None:
    mutated = bytearray(BYTES_A)
    for bit in bits:
        mutated[bit // 8] ^= 1 << (bit % 8)
    assert _refused(_text(bytes(mutated)))


@FUZZ
@given(st.integers(0, len(BYTES_A) - 1))
def test_every_truncation_is_refused(length: int) -> None:
    assert _refused(_text(BYTES_A[:length]))
    assert _refused(CARD_A[: 4 + length])


@FUZZ
@given(st.binary(min_size=1, max_size=40))
def test_every_extension_is_refused(tail: bytes) -> None:
    assert _refused(_text(BYTES_A + tail))


@FUZZ
@given(st.integers(1, min(len(BYTES_A), len(BYTES_B)) - 1))
def test_every_splice_of_two_cards_is_refused(cut: int) -> None:
    if BYTES_A[:cut] + BYTES_B[cut:] != BYTES_B:
        assert _refused(_text(BYTES_A[:cut] + BYTES_B[cut:]))
    if BYTES_B[:cut] + BYTES_A[cut:] != BYTES_A:
        assert _refused(_text(BYTES_B[:cut] + BYTES_A[cut:]))


QR_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


@FUZZ
@given(
    st.integers(0, len(CARD_A) - 1),
    st.sampled_from(QR_ALPHABET),
)
def test_every_changed_character_of_the_text_is_refused(position: int, symbol: str) -> None:
    if CARD_A[position] == symbol:
        return
    mutated = CARD_A[:position] + symbol + CARD_A[position + 1 :]
    assert _refused(mutated)
