"""Signed approval links: who may decide at which waiting node of which run, until when.

A link's token is the claim (tenant, run, node, approver's email, deadline) as base64url JSON
and an HMAC-SHA256 of it under a key derived from the app's secret (MAILY_SECRET_KEY; the
previous keys of a rotation still verify). Tampering with any byte breaks the signature. The link
is single-use through the run itself: the first decision moves the node out of `waiting`, and a
link whose node no longer waits is refused (backend/approvals/services.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class LinkClaim:
    tenant_id: str
    run_id: str
    node_id: str
    email: str
    expires_at: datetime | None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and (now or datetime.now(timezone.utc)) >= self.expires_at


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ApprovalLinks:
    """Makes and reads the links approval.wait mails; `sender` is the From of those mails."""

    def __init__(self, secrets: list[str], base_url: str, sender: str = "Maily Flow <no-reply@maily-flow.example>"):
        if not secrets:
            raise ValueError("approval links need the app's secret key")
        self._keys = [hashlib.sha256(("maily-approval-link:" + s).encode()).digest() for s in secrets]
        self.base_url = base_url.rstrip("/")
        self.sender = sender

    def token(self, claim: LinkClaim) -> str:
        body = _b64(json.dumps({"t": claim.tenant_id, "r": claim.run_id, "n": claim.node_id, "e": claim.email,
                                "x": claim.expires_at.isoformat() if claim.expires_at else None},
                               separators=(",", ":")).encode())
        return f"{body}.{_b64(hmac.new(self._keys[0], body.encode(), hashlib.sha256).digest())}"

    def url(self, claim: LinkClaim) -> str:
        return f"{self.base_url}/api/approvals/{self.token(claim)}"

    def read(self, token: str) -> LinkClaim | None:
        """The claim of a genuine token, else None (tampered, truncated, another app's)."""
        body, _, sig = token.partition(".")
        # compared as bytes: compare_digest refuses non-ASCII str (a hostile link would be a 500)
        if not sig or not any(hmac.compare_digest(sig.encode(), _b64(hmac.new(k, body.encode(), hashlib.sha256)
                                                                      .digest()).encode()) for k in self._keys):
            return None
        try:
            doc: Any = json.loads(_unb64(body))
            expires = datetime.fromisoformat(doc["x"]) if doc.get("x") else None
            return LinkClaim(str(doc["t"]), str(doc["r"]), str(doc["n"]), str(doc["e"]), expires)
        except (ValueError, KeyError, TypeError):
            return None
