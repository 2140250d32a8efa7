"""Field encryption at rest: AES-256-GCM with key ids, so keys can be rotated.

A stored value reads ``rc1:<key id>:<base64 of nonce + ciphertext>``. The associated data binds
each ciphertext to its table and column, so a value copied into another column fails to decrypt.
"""

from __future__ import annotations

import json
import os
from base64 import b64decode, b64encode
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "rc1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted (unknown key id, tampering, wrong column)."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]

    def encrypt(self, plaintext: bytes, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_id]).encrypt(nonce, plaintext, context.encode())
        return f"{PREFIX}:{self.current_id}:{b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, stored: str, context: str) -> bytes:
        try:
            prefix, key_id, body = stored.split(":", 2)
        except ValueError as exc:
            raise DecryptionError("not an encrypted value") from exc
        if prefix != PREFIX or key_id not in self.keys:
            raise DecryptionError(f"unknown key id {key_id!r}")
        raw = b64decode(body)
        try:
            return AESGCM(self.keys[key_id]).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()
            )
        except Exception as exc:  # InvalidTag: wrong key, wrong column or tampered
            raise DecryptionError("value does not authenticate") from exc


def key_id_of(stored: str) -> str:
    """The key id of a stored value; "?" for a value that is not one of ours."""
    parts = stored.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else "?"


def parse_keys(spec: str) -> Keyring:
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        key_id, _, encoded = part.partition(":")
        key = b64decode(encoded)
        if not key_id or len(key) != 32:
            raise ImproperlyConfigured("each field key must be 'id:base64 of 32 bytes'")
        keys[key_id] = key
        order.append(key_id)
    if not order:
        raise ImproperlyConfigured("ROUTECARE_FIELD_KEYS is empty")
    return Keyring(current_id=order[0], keys=keys)


@cache
def _keyring_for(spec: str) -> Keyring:
    return parse_keys(spec)


def keyring() -> Keyring:
    return _keyring_for(settings.ROUTECARE_FIELD_KEYS)


class EncryptedJSONField(models.Field):  # type: ignore[type-arg]
    """Any JSON value, encrypted at rest. Not searchable or sortable in the database."""

    # What django-stubs reads as the Python type set on and read from model instances.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    description = "JSON value encrypted with AES-256-GCM"

    def get_internal_type(self) -> str:
        return "TextField"

    def context(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return json.loads(keyring().decrypt(value, self.context()))

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        plaintext = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        return keyring().encrypt(plaintext, self.context())

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj))
