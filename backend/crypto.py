"""Secrets at rest: AES-256-GCM with a key derived (HKDF-SHA256) from the app's secret key.

Token format: "v1:" + urlsafe base64 of nonce(12) || ciphertext+tag. Values are never logged here
or by callers. decrypt() also tries the previous keys (MAILY_SECRET_KEY_PREVIOUS) so that after
a key change everything stays readable until `maily secrets rotate` re-encrypted it
(backend/credentials/rotate.py).
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from typing import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.keys import previous_secret_keys, secret_key
from backend.settings import get_settings

_PREFIX = "v1:"
# Distinct `info` per purpose: the session cookie key and this key never coincide.
_INFO = b"maily-flow secrets at rest v1"


class DecryptError(ValueError):
    """The token was not made with this secret key, or was altered."""


@lru_cache(maxsize=8)
def _aead(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"maily-flow", info=_INFO).derive(secret.encode())
    return AESGCM(key)


def _secret(secret: str | None) -> str:
    if secret:
        return secret
    return secret_key(get_settings())


def encrypt(value: bytes | str, *, secret: str | None = None, context: bytes = b"") -> str:
    """Encrypt value; `context` (e.g. a tenant id) is authenticated, so a ciphertext copied
    to another tenant's row does not decrypt there."""
    data = value.encode() if isinstance(value, str) else value
    nonce = os.urandom(12)
    sealed = _aead(_secret(secret)).encrypt(nonce, data, context or None)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str, *, secret: str | None = None, context: bytes = b"",
            previous: Sequence[str] | None = None) -> str:
    """The value, opened with `secret` (default: the app's key) or else one of `previous`
    (default: MAILY_SECRET_KEY_PREVIOUS)."""
    if not token.startswith(_PREFIX):
        raise DecryptError("not an encrypted value")
    try:
        raw = base64.urlsafe_b64decode(token[len(_PREFIX):])
    except ValueError as exc:
        raise DecryptError("cannot decrypt: altered value") from exc
    olds = previous_secret_keys(get_settings()) if previous is None else previous
    for key in (_secret(secret), *olds):
        try:
            return _aead(key).decrypt(raw[:12], raw[12:], context or None).decode()
        except (InvalidTag, ValueError):
            continue
    raise DecryptError("cannot decrypt: wrong key or altered value")


def opens_with(token: str, secret: str, context: bytes = b"") -> bool:
    """Whether `secret` itself (no previous key) opens token: rotation skips what is current."""
    try:
        decrypt(token, secret=secret, context=context, previous=())
        return True
    except DecryptError:
        return False
