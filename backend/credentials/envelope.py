"""Envelope encryption of the vault: AES-256-GCM with a fresh data key per credential, the data
key wrapped (AES-256-GCM) by a key-encryption key HKDF-derived from MAILY_SECRET_KEY.

Both ciphertexts authenticate "tenant id|credential id" as associated data, so a row copied into
another tenant (or onto another credential) does not open. `key_version` on the row is the key
id of the KEK that wrapped its data key (a fingerprint, never the key): the app opens rows with
the current key and any previous one (MAILY_SECRET_KEY_PREVIOUS), and `maily secrets rotate`
re-wraps the data keys still under a previous key. Only the wrapped key changes on rotation;
the sealed secret stays as it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.keys import previous_secret_keys, secret_key
from backend.settings import Settings

_PREFIX = "v1:"
_KEK_INFO = b"maily-flow credential vault kek v1"   # distinct from backend/crypto.py's key


class VaultKeyError(ValueError):
    """No configured secret key opens this row (wrong key, another tenant's row, or altered)."""


@lru_cache(maxsize=16)
def _kek(secret: str) -> tuple[str, AESGCM]:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"maily-flow", info=_KEK_INFO).derive(secret.encode())
    kid = hmac.new(key, b"key id", hashlib.sha256).hexdigest()[:16]
    return kid, AESGCM(key)


def _b64(raw: bytes) -> str:
    return _PREFIX + base64.urlsafe_b64encode(raw).decode()


def _unb64(token: str) -> bytes:
    if not token.startswith(_PREFIX):
        raise VaultKeyError("not a vault value")
    return base64.urlsafe_b64decode(token[len(_PREFIX):])


def _aad(tenant_id: str, credential_id: str) -> bytes:
    return f"{tenant_id}|{credential_id}".encode()


@dataclass(frozen=True)
class Sealed:
    secret: str          # the secret fields' JSON under the data key
    wrapped_key: str     # the data key under the KEK
    key_version: str     # the KEK's key id


@dataclass(frozen=True)
class Keyring:
    """The current secret key (which seals) and the previous ones (which still open)."""

    current: str
    previous: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> "Keyring":
        return cls(secret_key(settings), tuple(previous_secret_keys(settings)))

    @property
    def current_id(self) -> str:
        return _kek(self.current)[0]

    def _keks(self, key_version: str) -> list[AESGCM]:
        keys = [_kek(s) for s in (self.current, *self.previous)]
        # The row's key id picks the KEK; any other key is tried too (a row without a version).
        return [a for kid, a in keys if kid == key_version] + [a for kid, a in keys if kid != key_version]

    def seal(self, tenant_id: str, credential_id: str, secret_fields: dict[str, Any]) -> Sealed:
        dek, aad = AESGCM.generate_key(bit_length=256), _aad(tenant_id, credential_id)
        n1, n2 = os.urandom(12), os.urandom(12)
        body = AESGCM(dek).encrypt(n1, json.dumps(secret_fields, separators=(",", ":")).encode(), aad)
        kid, kek = _kek(self.current)
        return Sealed(_b64(n1 + body), _b64(n2 + kek.encrypt(n2, dek, aad)), kid)

    def _unwrap(self, tenant_id: str, credential_id: str, wrapped_key: str, key_version: str) -> bytes:
        raw = _unb64(wrapped_key)
        for kek in self._keks(key_version):
            try:
                return kek.decrypt(raw[:12], raw[12:], _aad(tenant_id, credential_id))
            except InvalidTag:
                continue
        raise VaultKeyError("no configured secret key opens this credential")

    def open(self, tenant_id: str, credential_id: str, sealed: Sealed) -> dict[str, Any]:
        dek = self._unwrap(tenant_id, credential_id, sealed.wrapped_key, sealed.key_version)
        raw = _unb64(sealed.secret)
        try:
            return json.loads(AESGCM(dek).decrypt(raw[:12], raw[12:], _aad(tenant_id, credential_id)))
        except InvalidTag:
            raise VaultKeyError("the sealed secret was altered") from None

    def rewrap(self, tenant_id: str, credential_id: str, sealed: Sealed) -> Sealed:
        """The same sealed secret with its data key wrapped by the current key."""
        dek = self._unwrap(tenant_id, credential_id, sealed.wrapped_key, sealed.key_version)
        kid, kek = _kek(self.current)
        nonce = os.urandom(12)
        return Sealed(sealed.secret, _b64(nonce + kek.encrypt(nonce, dek, _aad(tenant_id, credential_id))), kid)
