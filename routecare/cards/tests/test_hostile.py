"""Hostile cards (issue 18): each failure found from outside as a named case, then the property
test over arbitrary CBOR at every stage of the reader (cards.fuzzing)."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

from routecare.cards import format, fuzzing
from routecare.cards.fuzzing import (
    VALID_RECORD,
    Exploration,
    Keys,
    PropertyError,
    check,
    explore,
    sealed_inner,
    sealed_payload,
    sealed_record,
    with_header,
)
from routecare.cards.summary import read_text, to_record

# The property test's fixed budget (make test runs it on both databases; ~6 s each).
EXAMPLES = 1200


def _reason(text: str) -> str:
    with pytest.raises(format.CardError) as refused:
        read_text(text, Keys())
    return refused.value.code


def _head(major: int, value: int) -> bytes:
    """A CBOR head in its shortest form."""
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise ValueError(value)


def _map(*pairs: tuple[Any, Any]) -> bytes:
    """A CBOR map written as given: keys in this order, repeated if repeated."""
    body = b"".join(cbor2.dumps(key) + cbor2.dumps(value) for key, value in pairs)
    return _head(5, len(pairs)) + body


BASE: list[tuple[Any, Any]] = [
    (1, "7K3M9QE"),
    (2, bytes.fromhex("0123456789abcdef")),
    (3, 1795000000),
    (4, "hnd-danli"),
    (5, 3),
]


def _record(*extra: tuple[Any, Any], base: list[tuple[Any, Any]] = BASE) -> str:
    return sealed_record(_map(*base, *extra))


def test_the_valid_records_used_below_are_read() -> None:
    unsealed, summary = read_text(_record((10, ["penicillin"])), Keys())
    assert summary.allergies == ["penicillin"]
    assert to_record(summary) == unsealed.record
    assert read_text(sealed_record(VALID_RECORD), Keys())[1].dropped == {"encounters": 1}


# -- Anyone can print these: no key needed ------------------------------------------------


def test_a_header_with_a_huge_network_number_is_damaged_not_a_crash() -> None:
    enormous = cbor2.dumps([1, 10**5000, bytes(4)])  # a big number (tag 2) of 2,077 bytes
    assert _reason(with_header(enormous, bytes(40))) == "damaged"
    assert _reason(with_header(cbor2.dumps([1, 2**64 - 1, bytes(4)]), bytes(40))) == "damaged"
    assert _reason(with_header(cbor2.dumps([1, 0, bytes(4)]), bytes(40))) == "damaged"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda text: "rc1:" + text[4:], "not_routecare"),
        (lambda text: "Rc1:" + text[4:], "not_routecare"),
        (lambda text: "RC1:" + text[4:].lower(), "damaged"),
        (lambda text: text.replace("I", "\u0131", 1), "damaged"),  # dotless i: upper() is I
        (lambda text: text.replace("S", "\u017f", 1), "damaged"),  # long s: upper() is S
        (lambda text: "\u00a0" + text, "not_routecare"),  # only ASCII white space is stripped
        (lambda text: text[:40] + "\n" + text[40:], "damaged"),
    ],
)
def test_the_text_is_matched_exactly_as_printed(change: Any, reason: str) -> None:
    # A valid text with an I and an S in its body (the nonce is random: draw until it has).
    text = next(t for t in iter(lambda: sealed_record(VALID_RECORD), "") if {"I", "S"} <= set(t))
    assert read_text(text, Keys())[1].serial == "0123456789abcdef"
    assert _reason(change(text)) == reason


def test_white_space_around_the_text_is_removed() -> None:
    text = sealed_record(VALID_RECORD)
    assert read_text(f"\r\n {text}\t\n", Keys())[1].serial == "0123456789abcdef"


def test_a_non_canonical_header_is_damaged() -> None:
    # The network number 1 written in two bytes (0x18 0x01) instead of one.
    header = bytes([0x83, 0x01, 0x18, 0x01, 0x44]) + bytes.fromhex("c0ffee01")
    assert _reason(with_header(header, bytes(40))) == "damaged"
    indefinite = bytes([0x9F, 0x01, 0x01, 0x44]) + bytes.fromhex("c0ffee01") + b"\xff"
    assert _reason(with_header(indefinite, bytes(40))) == "damaged"


# -- Inside a validly sealed card (a network member, or a stolen node) --------------------


@pytest.mark.parametrize(
    "inner",
    [
        cbor2.dumps({0: bytes.fromhex("5160ed01"), 1: b"x", 2: bytes(64)}),  # a map
        cbor2.dumps([bytes.fromhex("5160ed01"), b"x", bytes(64)]) + b"\x00",  # trailing byte
        cbor2.dumps([bytes.fromhex("5160ed01"), b"", bytes(64)]),  # empty payload
        cbor2.dumps([bytes.fromhex("5160ed01"), b"x", bytes(64), b""]),
    ],
)
def test_a_malformed_inner_envelope_is_damaged(inner: bytes) -> None:
    assert _reason(sealed_inner(inner)) == "damaged"


def test_bytes_after_the_deflate_stream_are_damaged() -> None:
    payload = format._deflate(VALID_RECORD)
    assert _reason(sealed_payload(payload + b"\x00")) == "damaged"
    assert _reason(sealed_payload(payload[:-2])) == "damaged"


def test_bytes_after_the_record_are_damaged() -> None:
    assert _reason(sealed_record(VALID_RECORD + b"\xf6")) == "damaged"


@pytest.mark.parametrize(
    "extra",
    [
        # Day numbers far outside any calendar (OverflowError before).
        (17, [[10**9, "hnd-danli", [1]]]),
        (17, [[2**39, "hnd-danli", [1]]]),
        (15, [["measles", 2**39]]),
        (14, [10**9, None, None, None]),
        (13, [None, 2**39]),
        (18, [["see a doctor", 10**9, 0]]),
        # Key 19, "left off", as a list or a text (AttributeError before), or naming no list.
        (19, [17, 2]),
        (19, "encounters"),
        (19, {1: 2}),
        (19, {17: 0}),
        (19, {}),
        (19, None),  # "nothing left off" is the key left out (found by the property test)
        # A list where a map is specified, and the reverse.
        (10, {0: "penicillin"}),
        (17, {0: [20000, "hnd-danli", [1]]}),
        # Wrong types that Python would take for the right ones.
        (6, True),
        (7, 1.0),
        (8, 1994.0),
        # Values out of range or empty.
        (6, 4),
        (7, 5),
        (16, 0),
        (10, []),
        (10, [""]),
        (10, ["x" * 61]),
        (10, ["pen\x00icillin"]),
        (10, ["\u202epenicillin"]),
        (9, ["zz"]),
        (9, ["ES"]),
        (12, [["insulin", "x" * 41, None]]),
        (12, [["insulin", "20 units", -1]]),
        (17, [[20000, "hnd danli", [1]]]),
        (17, [[20000, "hnd-danli", [25]]]),
        (18, [["see a doctor", None, 3]]),
    ],
)
def test_a_value_the_spec_refuses_is_damaged(extra: tuple[int, Any]) -> None:
    assert _reason(_record(extra)) == "damaged"


@pytest.mark.parametrize(
    "pairs",
    [
        [(0, "x"), *BASE],  # key 0
        [*BASE, (20, "x")],  # key 20
        [("1", "7K3M9QE"), *BASE[1:]],  # a text key
        [*BASE[:2], (2, bytes(8)), *BASE[2:]],  # a key twice
        [BASE[1], BASE[0], *BASE[2:]],  # keys out of order
        BASE[1:],  # no short code
        [*BASE[:4], (5, 16)],  # an unknown consent bit
        [*BASE[:4], (5, 0)],  # no consent: the key is left out instead
        [(1, "7k3m9qe"), *BASE[1:]],  # the short code in lower case
        [(1, "7K3M-9QE"), *BASE[1:]],  # with a dash
        [(1, "RC-7K3M-9QE"), *BASE[1:]],  # as printed for people
        [(1, "7K3M9QF"), *BASE[1:]],  # a wrong check symbol
    ],
)
def test_a_record_with_keys_the_spec_refuses_is_damaged(pairs: list[tuple[Any, Any]]) -> None:
    assert _reason(sealed_record(_map(*pairs))) == "damaged"


def test_a_record_in_longer_than_shortest_form_is_damaged() -> None:
    shortest = _map(*BASE)
    longer = shortest.replace(b"\x05\x03", b"\x05\x18\x03")  # consents 3 in two bytes
    assert longer != shortest
    assert _reason(sealed_record(longer)) == "damaged"


# -- The property -------------------------------------------------------------------------


def test_every_hostile_card_is_refused_with_a_documented_reason_or_read_faithfully() -> None:
    report = explore(EXAMPLES, seed=18)
    assert report.cases == EXAMPLES
    # The inputs reach the deep stages, not only the first checks.
    assert report.read > 0
    assert report.reasons.get("damaged", 0) > EXAMPLES // 4
    assert {"not_routecare", "unsupported_version"} <= set(report.reasons)


def test_the_property_check_catches_an_undocumented_reason_and_an_unfaithful_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = sealed_record(VALID_RECORD)
    unsealed, summary = read_text(text, Keys())

    def undocumented(text: str, keys: Any) -> Any:
        raise format.CardError("oops")

    monkeypatch.setattr(fuzzing, "read_text", undocumented)
    with pytest.raises(PropertyError, match="undocumented"):
        check(text, Exploration())
    other = summary.model_copy(update={"allergies": ["latex"]})
    monkeypatch.setattr(fuzzing, "read_text", lambda text, keys: (unsealed, other))
    with pytest.raises(PropertyError, match="re-encode"):
        check(text, Exploration())
