"""The test vectors published in docs/card-format.md hold for this implementation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from routecare.cards import format
from routecare.cards.format import CardError, CardKeyMaterial, SigningKeyMaterial
from routecare.cards.summary import CardSummary, RecordError, from_record, read_text, to_record

DOC = Path(__file__).resolve().parents[3] / "docs" / "card-format.md"


def _blocks() -> dict[str, str]:
    found = re.findall(r"```\w+ (test-vector-[\w-]+)\n(.*?)\n```", DOC.read_text(), re.S)
    return dict(found)


def _joined(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines())


class VectorKeys:
    def __init__(self, keys: dict[str, Any]) -> None:
        self.keys = keys

    def card_key(self, network: int, kid: bytes) -> bytes:
        if network != self.keys["network"]:
            raise CardError("wrong_network")
        if kid.hex() != self.keys["card_key"]["kid"]:
            raise CardError("unknown_key")
        return bytes.fromhex(self.keys["card_key"]["secret"])

    def verify_key(self, network: int, kid: bytes) -> bytes:
        if kid.hex() != self.keys["signing_key"]["kid"]:
            raise CardError("untrusted_signer")
        return bytes.fromhex(self.keys["signing_key"]["public"])


@pytest.fixture(scope="module")
def vectors() -> dict[str, str]:
    return _blocks()


@pytest.fixture(scope="module")
def keys(vectors: dict[str, str]) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(vectors["test-vector-keys"])
    return parsed


def _materials(keys: dict[str, Any]) -> tuple[CardKeyMaterial, SigningKeyMaterial]:
    return (
        CardKeyMaterial(
            bytes.fromhex(keys["card_key"]["kid"]), bytes.fromhex(keys["card_key"]["secret"])
        ),
        SigningKeyMaterial(
            bytes.fromhex(keys["signing_key"]["kid"]), bytes.fromhex(keys["signing_key"]["seed"])
        ),
    )


def test_the_document_publishes_two_vectors(vectors: dict[str, str]) -> None:
    for number in ("1", "2"):
        for part in ("summary", "record", "nonce", "qr"):
            assert f"test-vector-{number}-{part}" in vectors


def test_the_published_public_key_belongs_to_the_published_seed(keys: dict[str, Any]) -> None:
    _card_key, signing_key = _materials(keys)
    assert signing_key.public_bytes().hex() == keys["signing_key"]["public"]


@pytest.mark.parametrize("number", ["1", "2"])
def test_it_encodes_each_vector_exactly(
    number: str, vectors: dict[str, str], keys: dict[str, Any]
) -> None:
    summary = CardSummary.model_validate(json.loads(vectors[f"test-vector-{number}-summary"]))
    record = to_record(summary)
    assert record.hex() == _joined(vectors[f"test-vector-{number}-record"])
    card_key, signing_key = _materials(keys)
    text = format.seal(
        record,
        network=keys["network"],
        card_key=card_key,
        signing_key=signing_key,
        nonce=bytes.fromhex(vectors[f"test-vector-{number}-nonce"]),
    )
    assert text == _joined(vectors[f"test-vector-{number}-qr"])


@pytest.mark.parametrize("number", ["1", "2"])
def test_it_decodes_each_vector_to_its_summary(
    number: str, vectors: dict[str, str], keys: dict[str, Any]
) -> None:
    unsealed = format.unseal(_joined(vectors[f"test-vector-{number}-qr"]), VectorKeys(keys))
    summary = from_record(unsealed.record)
    assert summary.model_dump(mode="json") == json.loads(vectors[f"test-vector-{number}-summary"])
    assert unsealed.signing_kid.hex() == keys["signing_key"]["kid"]


def test_it_refuses_the_published_bad_vectors(
    vectors: dict[str, str], keys: dict[str, Any]
) -> None:
    good = _joined(vectors["test-vector-1-qr"])
    other = _joined(vectors["test-vector-2-qr"])
    resolver = VectorKeys(keys)
    cases = {
        "RC2:" + good[4:]: "unsupported_version",
        good[4:]: "not_routecare",
        good[:-9]: "not_authentic",
        good[:-1]: "damaged",
        good[:61] + other[61:]: "not_authentic",
    }
    for text, reason in cases.items():
        with pytest.raises(CardError) as refused:
            format.unseal(text, resolver)
        assert refused.value.code == reason, text[:20]


REFUSAL_VECTORS = ["1", "2", "3", "4", "5"]


def test_the_document_publishes_at_least_three_refusal_vectors(vectors: dict[str, str]) -> None:
    for number in REFUSAL_VECTORS:
        assert f"test-vector-refused-{number}" in vectors
        assert f"test-vector-refused-{number}-reason" in vectors


@pytest.mark.parametrize("number", REFUSAL_VECTORS)
def test_it_refuses_each_refusal_vector_with_its_reason(
    number: str, vectors: dict[str, str], keys: dict[str, Any]
) -> None:
    text = vectors[f"test-vector-refused-{number}"].replace("\n", "")  # base45 has spaces
    with pytest.raises(CardError) as refused:
        read_text(text, VectorKeys(keys))
    assert refused.value.code == vectors[f"test-vector-refused-{number}-reason"].strip()


@pytest.mark.parametrize("number", ["3", "4", "5"])
def test_the_record_refusal_vectors_are_authentic(
    number: str, vectors: dict[str, str], keys: dict[str, Any]
) -> None:
    # They decrypt and their signature verifies: only the record's rules refuse them.
    text = vectors[f"test-vector-refused-{number}"].replace("\n", "")
    unsealed = format.unseal(text, VectorKeys(keys))
    with pytest.raises(RecordError):
        from_record(unsealed.record)


def test_a_card_signed_by_a_key_not_on_the_trust_list_is_refused(keys: dict[str, Any]) -> None:
    card_key, _signing_key = _materials(keys)
    stranger = SigningKeyMaterial(b"\x01\x02\x03\x04", bytes(32))
    text = format.seal(b"\xa0", network=keys["network"], card_key=card_key, signing_key=stranger)
    with pytest.raises(CardError) as refused:
        format.unseal(text, VectorKeys(keys))
    assert refused.value.code == "untrusted_signer"


def test_a_card_signed_by_another_key_under_a_trusted_id_has_a_bad_signature(
    keys: dict[str, Any],
) -> None:
    card_key, signing_key = _materials(keys)
    impostor = SigningKeyMaterial(signing_key.kid, bytes(32))
    text = format.seal(b"\xa0", network=keys["network"], card_key=card_key, signing_key=impostor)
    with pytest.raises(CardError) as refused:
        format.unseal(text, VectorKeys(keys))
    assert refused.value.code == "bad_signature"
