"""Hostile care cards, for the property test (cards/tests/test_hostile.py) and ``make bench``.

Hypothesis makes arbitrary CBOR values (tags, floats, booleans, negative and enormous integers,
text keys, nested lists and maps) and arbitrary bytes, and puts them at every stage of a card:
the QR text, the header, the inner envelope, the DEFLATE payload and the record. What needs to
be sealed is sealed with throw-away keys, so that each input reaches the stage it aims at
rather than failing at the first check. The one property (docs/card-format.md, section 8):

    every input is refused with a documented reason, or read as a record that re-encodes to
    the very bytes it was read from; no other exception escapes.

Development only: hypothesis is a test dependency.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import base45
import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as with_seed
from hypothesis import strategies as st

from routecare.cards import format
from routecare.cards.format import CardError, CardKeyMaterial, SigningKeyMaterial
from routecare.cards.summary import CardSummary, read_text, to_record

# Every reason a reader may give before revocation and consent are checked (section 4).
DOCUMENTED_REASONS = frozenset(
    {
        "not_routecare",
        "unsupported_version",
        "damaged",
        "unknown_network",
        "wrong_network",
        "unknown_key",
        "retired_key",
        "not_authentic",
        "untrusted_signer",
        "bad_signature",
    }
)
NETWORK = 1
CARD_KEY = CardKeyMaterial(bytes.fromhex("c0ffee01"), os.urandom(32))
SIGNING_KEY = SigningKeyMaterial(bytes.fromhex("5160ed01"), os.urandom(32))


class Keys:
    """The throw-away keys, as a reader's key resolver."""

    def card_key(self, network: int, kid: bytes) -> bytes:
        if network != NETWORK:
            raise CardError("unknown_network")
        if kid != CARD_KEY.kid:
            raise CardError("unknown_key")
        return CARD_KEY.secret

    def verify_key(self, network: int, kid: bytes) -> bytes:
        if kid != SIGNING_KEY.kid:
            raise CardError("untrusted_signer")
        return SIGNING_KEY.public_bytes()


VALID = CardSummary.model_validate(
    {
        "short_code": "RC-7K3M-9QE",
        "serial": "0123456789abcdef",
        "issued_at": "2026-11-20T14:30:00Z",
        "issued_at_point": "hnd-danli",
        "consents": ["care", "share-network"],
        "sex": "female",
        "age_band": "18-59",
        "birth_year": 1994,
        "languages": ["es", "prs"],
        "allergies": ["penicillin"],
        "conditions": ["asthma"],
        "medicines": [{"name": "salbutamol", "dose": "2 puffs", "days_left": 28}],
        "pregnancy": {"weeks": 20, "expected_date": "2027-03-01"},
        "child_growth": {
            "measured_on": "2026-11-19",
            "weight_kg": 9.5,
            "height_cm": 75.5,
            "muac_mm": 130,
        },
        "vaccinations": [{"vaccine": "measles", "given_on": "2026-11-19"}],
        "triage": "yellow",
        "encounters": [{"date": "2026-11-20", "service_point": "hnd-danli", "services": ["water"]}],
        "follow_ups": [{"text": "Check feet\nin 24 h", "due": "2026-11-21", "urgency": "priority"}],
        "dropped": {"encounters": 1},
    }
)
VALID_RECORD = to_record(VALID)


# -- Values -------------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=0, max_value=30)
    | st.integers(min_value=-(2**64), max_value=2**64 + 5)
    | st.integers(min_value=2**64, max_value=2**16000)  # big numbers (tag 2)
    | st.floats(allow_nan=True)
    | st.binary(max_size=12)
    | st.text(max_size=12)
    | st.sampled_from(
        ["rc-7k3m-9qe", "RC-7K3M-9QE", "7K3M9QE", "7k3m9qe", "\u0131\u017f", "\u202e", "\x00"]
    )
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.integers(min_value=-2, max_value=22) | st.text(max_size=2) | st.booleans()
    return (
        st.lists(children, max_size=6)
        | st.dictionaries(keys, children, max_size=6)
        | st.builds(cbor2.CBORTag, st.sampled_from([0, 1, 2, 3, 4, 24, 28, 29, 35, 258]), children)
    )


cbor_values: st.SearchStrategy[Any] = st.recursive(_scalars, _containers, max_leaves=24)


def _dumps(value: Any, canonical: bool) -> bytes | None:
    try:
        return cbor2.dumps(value, canonical=canonical)
    except (cbor2.CBOREncodeError, TypeError, ValueError, OverflowError):
        return None


def cbor_bytes() -> st.SearchStrategy[bytes]:
    """The CBOR encoding of an arbitrary value (shortest or canonical form), or raw bytes."""
    encoded = st.builds(_dumps, cbor_values, st.booleans()).filter(lambda b: b is not None)
    return st.one_of(encoded, st.binary(max_size=64))


def _record_map(replacements: dict[int, Any], removed: list[int]) -> bytes | None:
    """The valid record with some keys given arbitrary values, added or removed."""
    record = cbor2.loads(VALID_RECORD)
    for key in removed:
        record.pop(key, None)
    record.update(replacements)
    if all(type(key) is int for key in record):
        record = dict(sorted(record.items()))  # ascending, as a valid record's keys
    return _dumps(record, False)


def _edited(data: bytes, position: int, byte: int, action: int) -> bytes:
    position %= max(len(data), 1)
    if action == 0:
        return data[:position] + bytes([byte]) + data[position + 1 :]
    if action == 1:
        return data[:position] + bytes([byte]) + data[position:]
    return data[:position] + data[position + 1 :]


def records() -> st.SearchStrategy[bytes]:
    """Record bytes: arbitrary CBOR, the valid record with keys changed, or with bytes edited."""
    near_valid = st.builds(
        _record_map,
        st.dictionaries(st.integers(min_value=0, max_value=21), cbor_values, max_size=3),
        st.lists(st.integers(min_value=1, max_value=19), max_size=2),
    ).filter(lambda b: b is not None)
    edited = st.builds(
        _edited,
        st.just(VALID_RECORD),
        st.integers(min_value=0, max_value=1000),
        st.integers(min_value=0, max_value=255),
        st.integers(min_value=0, max_value=2),
    )
    trailing = st.builds(lambda extra: VALID_RECORD + extra, st.binary(min_size=1, max_size=4))
    return st.one_of(cbor_bytes(), near_valid, edited, trailing)


# -- Sealing at each stage ----------------------------------------------------------------


def _header(network: int = NETWORK) -> bytes:
    return cbor2.dumps([format.FORMAT_VERSION, network, CARD_KEY.kid])


def _text(header: bytes, inner: bytes) -> str:
    nonce = os.urandom(format.NONCE_BYTES)
    sealed = AESGCM(CARD_KEY.secret).encrypt(nonce, inner, header)
    encoded: bytes = base45.b45encode(header + nonce + sealed)
    return format.PREFIX + encoded.decode("ascii")


def _signed_inner(header: bytes, payload: bytes) -> bytes:
    signed = format.SIGNATURE_CONTEXT + header + SIGNING_KEY.kid + payload
    signature = Ed25519PrivateKey.from_private_bytes(SIGNING_KEY.seed).sign(signed)
    return cbor2.dumps([SIGNING_KEY.kid, payload, signature])


def sealed_record(record: bytes) -> str:
    return format.seal(record, network=NETWORK, card_key=CARD_KEY, signing_key=SIGNING_KEY)


def sealed_payload(payload: bytes) -> str:
    header = _header()
    return _text(header, _signed_inner(header, payload))


def sealed_inner(inner: bytes) -> str:
    return _text(_header(), inner)


def with_header(header: bytes, rest: bytes) -> str:
    encoded: bytes = base45.b45encode(header + rest)
    return format.PREFIX + encoded.decode("ascii")


def texts() -> st.SearchStrategy[str]:
    """QR texts aimed at every stage of the reader."""
    valid = sealed_record(VALID_RECORD)
    prefixes = st.sampled_from(["RC1:", "rc1:", "Rc1:", "RC2:", "RC:", "", " RC1:", "RC1: "])
    return st.one_of(
        st.text(max_size=80),
        st.builds(lambda p, body: p + body, prefixes, st.text(max_size=40)),
        st.builds(lambda p: p + valid[4:], prefixes),
        st.builds(lambda folded: valid[:4] + folded, st.just(valid[4:].lower())),
        st.builds(with_header, cbor_bytes(), st.binary(min_size=0, max_size=60)),
        st.builds(sealed_inner, cbor_bytes()),
        st.builds(sealed_payload, st.binary(max_size=40)),
        st.builds(
            lambda record, extra: sealed_payload(format._deflate(record) + extra),
            records(),
            st.binary(max_size=3),
        ),
        st.builds(sealed_record, records()),
    )


# -- The property -------------------------------------------------------------------------


class PropertyError(AssertionError):
    """A hostile text was neither refused with a documented reason nor read faithfully."""


@dataclass
class Exploration:
    cases: int = 0
    read: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    max_ms: float = 0.0
    times_ms: list[float] = field(default_factory=list)


def check(text: str, report: Exploration, keys: format.KeyResolver | None = None) -> None:
    """Read one text; fail (AssertionError) if the property does not hold."""
    started = time.perf_counter()
    try:
        unsealed, summary = read_text(text, keys or Keys())
    except CardError as error:
        elapsed = (time.perf_counter() - started) * 1000
        if error.code not in DOCUMENTED_REASONS:
            raise PropertyError(f"undocumented reason {error.code!r} for {text!r}") from error
        report.reasons[error.code] = report.reasons.get(error.code, 0) + 1
    else:
        elapsed = (time.perf_counter() - started) * 1000
        if to_record(summary) != unsealed.record:
            raise PropertyError(f"read, but does not re-encode the same: {text!r}")
        report.read += 1
    report.cases += 1
    report.max_ms = max(report.max_ms, elapsed)
    report.times_ms.append(elapsed)


def explore(
    examples: int, seed: int = 0, on_text: Callable[[str], None] | None = None
) -> Exploration:
    """Check ``examples`` hostile texts (the same ones for the same seed). ``on_text`` also
    hands each text to another reader (the web and API paths in the tests)."""
    report = Exploration()

    @with_seed(seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        text = data.draw(texts())
        check(text, report)
        if on_text is not None:
            on_text(text)

    run()
    return report
