"""Certificates over run outputs, and the hash-chained ledger they are appended to.

A certificate is JSON anyone can check:
  content_sha256  SHA-256 of the canonical JSON of `content` (sorted keys, no spaces, UTF-8);
  signature       Ed25519 over the canonical JSON of every field except `signature` and `ledger`,
                  by the tenant's key `key_id` (rotated keys stay on file, so old certificates
                  keep verifying);
  ledger          its entry in the tenant's append-only chain: entry_hash = SHA-256 of the
                  canonical {seq, prev_hash, cert_id, cert_hash, created_at}, each entry naming
                  the previous entry's hash, so changing or removing any entry breaks every later link.
The checks never trust the public key inside the document: it must be the one on file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "maily-certificate/1"
GENESIS = "0" * 64


def _reject_floats(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN and infinity have no canonical JSON form")
    if isinstance(value, dict):
        return {str(k): _reject_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reject_floats(v) for v in value]
    return value


def canonical(value: Any) -> bytes:
    return json.dumps(_reject_floats(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def sha256(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def signed_part(cert: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cert.items() if k not in ("signature", "ledger")}


def cert_hash(cert: dict[str, Any]) -> str:
    return sha256({**signed_part(cert), "signature": cert.get("signature")})


def entry_hash(seq: int, prev_hash: str, cert_id: str, c_hash: str, created_at: str) -> str:
    return sha256({"seq": seq, "prev_hash": prev_hash, "cert_id": cert_id, "cert_hash": c_hash,
                   "created_at": created_at})


def new_private_key() -> tuple[str, str]:
    """(private key PEM, raw public key base64)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, public_b64(key)


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_private(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def signature_ok(cert: dict[str, Any], public_key: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(
            base64.b64decode(cert.get("signature") or ""), canonical(signed_part(cert)))
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


class LedgerStore(Protocol):
    async def signing_key(self, tenant_id: str) -> tuple[str, str, str]: ...      # key_id, private PEM, public
    async def public_key(self, tenant_id: str, key_id: str) -> str | None: ...
    async def append(self, tenant_id: str, cert: dict[str, Any], c_hash: str) -> dict[str, Any]: ...
    async def entries(self, tenant_id: str, upto_seq: int) -> list[dict[str, Any]]: ...


def make_certificate(tenant_id: str, subject: dict[str, Any], content: Any, key_id: str, private_pem: str,
                     public_key: str, now: datetime | None = None) -> dict[str, Any]:
    issued = (now or datetime.now(timezone.utc)).isoformat(timespec="microseconds")
    cert = {"format": FORMAT, "id": uuid.uuid4().hex, "tenant_id": tenant_id, "issued_at": issued,
            "subject": subject, "content": content, "content_sha256": sha256(content), "key_id": key_id,
            "public_key": public_key}
    cert["signature"] = base64.b64encode(load_private(private_pem).sign(canonical(signed_part(cert)))).decode()
    return cert


async def certify(store: LedgerStore, tenant_id: str, subject: dict[str, Any], content: Any) -> dict[str, Any]:
    key_id, pem, pub = await store.signing_key(tenant_id)
    cert = make_certificate(tenant_id, subject, content, key_id, pem, pub)
    entry = await store.append(tenant_id, cert, cert_hash(cert))
    cert["ledger"] = {k: entry[k] for k in ("seq", "prev_hash", "entry_hash")}
    return cert


async def verify(store: LedgerStore, cert: Any) -> dict[str, Any]:
    """{valid, checks: {name: bool}, problems: [...]}: every check runs, so the answer names
    everything that is wrong, not just the first thing."""
    problems: list[str] = []
    checks: dict[str, bool] = {}

    def check(name: str, ok: bool, problem: str) -> bool:
        checks[name] = ok
        if not ok:
            problems.append(problem)
        return ok

    if not isinstance(cert, dict) or cert.get("format") != FORMAT:
        return {"valid": False, "checks": {"format": False}, "problems": [f"not a {FORMAT} document"]}
    tenant_id = str(cert.get("tenant_id", ""))
    try:
        check("content", sha256(cert.get("content")) == cert.get("content_sha256"),
              "the content does not match content_sha256")
    except (ValueError, TypeError):
        check("content", False, "the content is not canonical JSON")
    on_file = await store.public_key(tenant_id, str(cert.get("key_id", "")))
    if check("key", on_file is not None and on_file == cert.get("public_key"),
             "the signing key is not this tenant's key on file"):
        check("signature", signature_ok(cert, on_file or ""), "the signature does not match the certificate")
    else:
        checks["signature"] = False
    ledger = cert.get("ledger") if isinstance(cert.get("ledger"), dict) else {}
    seq = ledger.get("seq")
    chain = await store.entries(tenant_id, seq) if isinstance(seq, int) and seq >= 1 else []
    entry = chain[-1] if chain and chain[-1]["seq"] == seq else None
    if check("ledger_entry", entry is not None and entry["cert_id"] == cert.get("id"),
             "the certificate is not in the ledger at the position it names"):
        try:
            same = entry["cert_hash"] == cert_hash(cert) and entry["entry_hash"] == ledger.get("entry_hash") \
                and entry["prev_hash"] == ledger.get("prev_hash")
        except (ValueError, TypeError):
            same = False
        check("ledger_match", same, "the ledger entry records a different certificate")
    else:
        checks["ledger_match"] = False
    check("ledger_chain", chain_ok(chain) if chain else False, "the ledger's hash chain is broken")
    return {"valid": not problems, "checks": checks, "problems": problems}


def chain_ok(entries: list[dict[str, Any]]) -> bool:
    prev = GENESIS
    for n, e in enumerate(entries, start=1):
        if e["seq"] != n or e["prev_hash"] != prev or \
                entry_hash(e["seq"], e["prev_hash"], e["cert_id"], e["cert_hash"], e["created_at"]) != e["entry_hash"]:
            return False
        prev = e["entry_hash"]
    return True


@dataclass
class MemoryLedger:
    """In-process keys and ledger, for graphs run without the app and for tests."""

    keys: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    chains: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    async def signing_key(self, tenant_id: str) -> tuple[str, str, str]:
        if tenant_id not in self.keys:
            self.rotate(tenant_id)
        return self.keys[tenant_id][-1]

    def rotate(self, tenant_id: str) -> str:
        pem, pub = new_private_key()
        key_id = uuid.uuid4().hex
        self.keys.setdefault(tenant_id, []).append((key_id, pem, pub))
        return key_id

    async def public_key(self, tenant_id: str, key_id: str) -> str | None:
        return next((pub for kid, _, pub in self.keys.get(tenant_id, []) if kid == key_id), None)

    async def append(self, tenant_id: str, cert: dict[str, Any], c_hash: str) -> dict[str, Any]:
        chain = self.chains.setdefault(tenant_id, [])
        seq, prev = len(chain) + 1, chain[-1]["entry_hash"] if chain else GENESIS
        created = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        entry = {"seq": seq, "prev_hash": prev, "cert_id": cert["id"], "cert_hash": c_hash, "created_at": created,
                 "entry_hash": entry_hash(seq, prev, cert["id"], c_hash, created)}
        chain.append(entry)
        return entry

    async def entries(self, tenant_id: str, upto_seq: int) -> list[dict[str, Any]]:
        return [dict(e) for e in self.chains.get(tenant_id, [])[:upto_seq]]
