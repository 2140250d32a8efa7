"""The care card's wire format, version 1 (see docs/card-format.md).

``RC1:`` + base45 of ``header || nonce || AES-256-GCM(card key, inner, aad=header)`` where

- ``header`` is the CBOR array ``[1, network number, card key id]``,
- ``inner`` is the CBOR array ``[signing key id, payload, Ed25519 signature]``,
- ``payload`` is the raw-deflate-compressed CBOR record (``cards.summary``),
- the signature covers ``SIGNATURE_CONTEXT || header || signing key id || payload``.

The signing key id travels inside the encryption: someone who is not in the network cannot
even tell which National Society issued a card. This module knows nothing of the database; the
caller passes the keys in (``KeyResolver``), so a second implementation needs only this file.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from typing import Protocol

import base45
import cbor2
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from routecare.cards import strict_cbor

FORMAT_VERSION = 1
PREFIX = "RC1:"
KID_BYTES = 4
NONCE_BYTES = 12
SIGNATURE_BYTES = 64
SIGNATURE_CONTEXT = b"RouteCare card v1"
# A record larger than this once inflated is refused: no card needs it, a zip bomb would.
MAX_RECORD_BYTES = 8192
# The longest QR text we accept: version 40 at level L holds 4,296 alphanumeric characters.
MAX_TEXT_CHARS = 4296
# Network card numbers are given from 1 up (orgs.Network.card_number, a small integer).
MAX_NETWORK_NUMBER = 65535


class CardError(Exception):
    """Why a card cannot be read. ``code`` names the reason; each has its own message."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class CardKeyMaterial:
    kid: bytes
    secret: bytes  # 32 bytes, AES-256


@dataclass(frozen=True)
class SigningKeyMaterial:
    kid: bytes
    seed: bytes  # 32 bytes, the Ed25519 private key

    def public_bytes(self) -> bytes:
        return (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )


class KeyResolver(Protocol):
    """Finds the keys a card names; raises ``CardError`` for unknown, foreign or retired ones."""

    def card_key(self, network: int, kid: bytes) -> bytes: ...

    def verify_key(self, network: int, kid: bytes) -> bytes: ...


@dataclass(frozen=True)
class Unsealed:
    network: int
    card_kid: bytes
    signing_kid: bytes
    record: bytes  # CBOR, inflated


def seal(
    record: bytes,
    *,
    network: int,
    card_key: CardKeyMaterial,
    signing_key: SigningKeyMaterial,
    nonce: bytes | None = None,
) -> str:
    """The QR text of a record. ``nonce`` is only given by test vectors; never reuse one."""
    header = cbor2.dumps([FORMAT_VERSION, network, card_key.kid])
    payload = _deflate(record)
    signed = SIGNATURE_CONTEXT + header + signing_key.kid + payload
    signature = Ed25519PrivateKey.from_private_bytes(signing_key.seed).sign(signed)
    inner = cbor2.dumps([signing_key.kid, payload, signature])
    nonce = nonce if nonce is not None else os.urandom(NONCE_BYTES)
    sealed = AESGCM(card_key.secret).encrypt(nonce, inner, header)
    encoded: bytes = base45.b45encode(header + nonce + sealed)
    return PREFIX + encoded.decode("ascii")


def unseal(text: str, keys: KeyResolver) -> Unsealed:
    """Check and open a card's QR text, or raise ``CardError`` saying why not."""
    raw = _decode_text(text)
    header, network, card_kid, rest = _parse_header(raw)
    card_secret = keys.card_key(network, card_kid)
    if len(rest) < NONCE_BYTES + 16:
        raise CardError("damaged", "too short")
    try:
        inner = AESGCM(card_secret).decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], header)
    except InvalidTag as exc:
        raise CardError("not_authentic", "does not decrypt under the card key") from exc
    signing_kid, payload, signature = _parse_inner(inner)
    public = keys.verify_key(network, signing_kid)
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            signature, SIGNATURE_CONTEXT + header + signing_kid + payload
        )
    except InvalidSignature as exc:
        raise CardError("bad_signature") from exc
    return Unsealed(network, card_kid, signing_kid, _inflate(payload))


# Section 1: the text. Only ASCII white space around it is removed (scanners and clipboards add
# it); nothing inside is changed: no case folding, which would also turn a dotless i or a long s
# into base45 letters.
TEXT_WHITE_SPACE = " \t\r\n"
BASE45_ALPHABET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _decode_text(text: str) -> bytes:
    text = text.strip(TEXT_WHITE_SPACE)
    if len(text) > MAX_TEXT_CHARS:
        raise CardError("not_routecare", "too long")
    if not text.startswith(PREFIX):
        if text[:2] == "RC" and text[3:4] == ":" and text[2:3] in set("023456789"):
            raise CardError("unsupported_version", text[:4])
        raise CardError("not_routecare")
    body = text[len(PREFIX) :]
    if not set(body) <= BASE45_ALPHABET:
        raise CardError("damaged", "not base45")
    try:
        return bytes(base45.b45decode(body))
    except ValueError as exc:
        raise CardError("damaged", "not base45") from exc


def _parse_header(raw: bytes) -> tuple[bytes, int, bytes, bytes]:
    """The header's exact bytes (they are authenticated as they are), its fields and the rest."""
    try:
        decoded, end = strict_cbor.load_prefix(raw)
    except strict_cbor.StrictCBORError as exc:
        raise CardError("damaged", "header") from exc
    if not (isinstance(decoded, list) and decoded and isinstance(decoded[0], int)):
        raise CardError("damaged", "header")
    if decoded[0] != FORMAT_VERSION:
        raise CardError("unsupported_version", "newer header")
    if not (
        len(decoded) == 3
        and isinstance(decoded[1], int)
        and 1 <= decoded[1] <= MAX_NETWORK_NUMBER
        and isinstance(decoded[2], bytes)
        and len(decoded[2]) == KID_BYTES
    ):
        raise CardError("damaged", "header")
    return raw[:end], decoded[1], decoded[2], raw[end:]


def _parse_inner(inner: bytes) -> tuple[bytes, bytes, bytes]:
    try:
        decoded = strict_cbor.loads(inner)
    except strict_cbor.StrictCBORError as exc:
        raise CardError("damaged", "inner envelope") from exc
    if not (isinstance(decoded, list) and len(decoded) == 3):
        raise CardError("damaged", "inner envelope")
    signing_kid, payload, signature = decoded
    if not (
        isinstance(signing_kid, bytes)
        and len(signing_kid) == KID_BYTES
        and isinstance(payload, bytes)
        and payload
        and isinstance(signature, bytes)
        and len(signature) == SIGNATURE_BYTES
    ):
        raise CardError("damaged", "inner envelope")
    return signing_kid, payload, signature


def _deflate(record: bytes) -> bytes:
    # Level 9, a 32 KiB window, memory level 8, the default strategy: what the test vectors
    # were made with. Readers accept any valid raw DEFLATE stream.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY)
    return compressor.compress(record) + compressor.flush()


def _inflate(payload: bytes) -> bytes:
    decompressor = zlib.decompressobj(-15)
    try:
        record = decompressor.decompress(payload, MAX_RECORD_BYTES)
    except zlib.error as exc:
        raise CardError("damaged", "payload does not inflate") from exc
    if decompressor.unconsumed_tail or not decompressor.eof:
        raise CardError("damaged", "payload too large or incomplete")
    if decompressor.unused_data:
        raise CardError("damaged", "bytes after the DEFLATE stream")
    return record


# Section 6.1: node certificates. A field node signs the cards it issues offline with its own
# key; its society's signing key vouches for that key once, at enrolment. The certificate
# names the society and the node, so a node key can never speak for another society.
NODE_CERTIFICATE_VERSION = 1
NODE_CERTIFICATE_CONTEXT = b"RouteCare node key v1"
UUID_BYTES = 16
PUBLIC_KEY_BYTES = 32


@dataclass(frozen=True)
class NodeCertificateBody:
    """What the society signs: the node's key id and public key, whose it is, since when, and
    the society key that signs (all bytes as they travel; ``not_before`` in Unix seconds)."""

    node_kid: bytes
    node_public_key: bytes
    society_id: bytes  # the society's UUID, 16 bytes
    node_id: bytes  # the node's UUID, 16 bytes
    not_before: int
    signer_kid: bytes

    def to_bytes(self) -> bytes:
        if not (
            len(self.node_kid) == KID_BYTES
            and len(self.signer_kid) == KID_BYTES
            and len(self.node_public_key) == PUBLIC_KEY_BYTES
            and len(self.society_id) == UUID_BYTES
            and len(self.node_id) == UUID_BYTES
            and 0 <= self.not_before < 2**40
        ):
            raise CardError("untrusted_signer", "malformed node certificate")
        encoded: bytes = cbor2.dumps(
            [
                NODE_CERTIFICATE_VERSION,
                self.node_kid,
                self.node_public_key,
                self.society_id,
                self.node_id,
                self.not_before,
                self.signer_kid,
            ]
        )
        return encoded


def sign_node_certificate(body: NodeCertificateBody, society_key: SigningKeyMaterial) -> bytes:
    """The society's Ed25519 signature of ``NODE_CERTIFICATE_CONTEXT || body``."""
    if society_key.kid != body.signer_kid:
        raise ValueError("the certificate names another signing key")
    private = Ed25519PrivateKey.from_private_bytes(society_key.seed)
    return private.sign(NODE_CERTIFICATE_CONTEXT + body.to_bytes())


def node_certificate_verifies(
    body: NodeCertificateBody, signature: bytes, society_public_key: bytes
) -> bool:
    """Whether the society key's owner signed exactly this certificate."""
    if len(signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(society_public_key).verify(
            signature, NODE_CERTIFICATE_CONTEXT + body.to_bytes()
        )
    except (InvalidSignature, ValueError, CardError):
        return False
    return True
