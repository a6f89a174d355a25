"""Bounce and complaint webhooks: each provider's signature, checked as the provider documents it,
and the events that become suppressions.

* Resend signs with Svix: `svix-signature: v1,<base64 HMAC-SHA256(key, "<svix-id>.<svix-timestamp>.<body>")>`
  (space-separated, any one may match), the key being the base64 after `whsec_`.
* SendGrid's Signed Event Webhook: `X-Twilio-Email-Event-Webhook-Signature` is a base64 DER
  ECDSA (P-256, SHA-256) signature over `<X-Twilio-Email-Event-Webhook-Timestamp><body>`,
  checked with the public key from SendGrid's Mail Settings (base64 DER, or PEM).
* Mailgun puts `{"signature": {"timestamp", "token", "signature"}}` in the JSON body:
  hex HMAC-SHA256(signing key, timestamp + token). Each token is accepted once.

Every timestamp must be within TOLERANCE_S of now (Svix's rule, applied to all three), so a
captured request cannot be replayed later; Mailgun tokens are remembered for that long.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from datetime import timedelta
from typing import Any, Mapping

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import utcnow
from backend.email.models import EmailWebhookNonce

TOLERANCE_S = 300
SIGNED_PROVIDERS = ("resend", "sendgrid", "mailgun")


class BadSignature(ValueError):
    """The request is not signed by the provider, or is stale or replayed (answered 401)."""


class BadSigningKey(ValueError):
    """A signing key that cannot be the provider's (answered 400 by PUT /api/email/provider)."""


def _svix_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise BadSigningKey("a Resend signing secret is whsec_ followed by base64") from None


def _sendgrid_key(public_key: str) -> ec.EllipticCurvePublicKey:
    text = public_key.strip()
    try:
        key = serialization.load_pem_public_key(text.encode()) if text.startswith("-----BEGIN") \
            else serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, TypeError):
        raise BadSigningKey("a SendGrid verification key is the base64 (or PEM) ECDSA public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise BadSigningKey("a SendGrid verification key is an ECDSA public key")
    return key


def check_signing_key(provider: str, key: str) -> None:
    """Raises BadSigningKey when `key` cannot verify `provider`'s webhooks."""
    if provider not in SIGNED_PROVIDERS:
        raise BadSigningKey(f"{provider} sends no signed webhooks")
    if provider == "resend":
        if not key.startswith("whsec_") or not _svix_key(key):
            raise BadSigningKey("a Resend signing secret is whsec_ followed by base64")
    elif provider == "sendgrid":
        _sendgrid_key(key)
    elif len(key.strip()) < 8:
        raise BadSigningKey("the Mailgun HTTP webhook signing key is too short")


def _fresh(timestamp: Any, now: float) -> None:
    try:
        ts = int(str(timestamp))
    except ValueError:
        raise BadSignature("the signature timestamp is not a number") from None
    if abs(now - ts) > TOLERANCE_S:
        raise BadSignature(f"the signature timestamp is more than {TOLERANCE_S} s away from now")


def verify(provider: str, key: str, headers: Mapping[str, str], raw: bytes, doc: Any,
           now: float | None = None) -> str | None:
    """Checks the request's signature; returns the token to remember (Mailgun) or None.
    `headers` is case-insensitive (Litestar's), `doc` the parsed body."""
    now = time.time() if now is None else now
    if provider == "resend":
        msg_id, ts, sigs = (headers.get(f"svix-{h}") or headers.get(f"webhook-{h}")
                            for h in ("id", "timestamp", "signature"))
        if not (msg_id and ts and sigs):
            raise BadSignature("svix-id, svix-timestamp and svix-signature are required")
        _fresh(ts, now)
        mac = hmac.new(_svix_key(key), f"{msg_id}.{ts}.".encode() + raw, hashlib.sha256).digest()
        expected = base64.b64encode(mac).decode()
        if not any(v == "v1" and hmac.compare_digest(s.encode(), expected.encode())
                   for v, _, s in (part.partition(",") for part in sigs.split())):
            raise BadSignature("the svix-signature does not match")
        return None
    if provider == "sendgrid":
        sig = headers.get("x-twilio-email-event-webhook-signature")
        ts = headers.get("x-twilio-email-event-webhook-timestamp")
        if not (sig and ts):
            raise BadSignature("X-Twilio-Email-Event-Webhook-Signature and -Timestamp are required")
        _fresh(ts, now)
        try:
            _sendgrid_key(key).verify(base64.b64decode(sig, validate=True), ts.encode() + raw,
                                      ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, binascii.Error, ValueError):
            raise BadSignature("the SendGrid signature does not match") from None
        return None
    if provider == "mailgun":
        signed = doc.get("signature") if isinstance(doc, dict) else None
        if not isinstance(signed, dict) or not all(isinstance(signed.get(k), (str, int))
                                                   for k in ("timestamp", "token", "signature")):
            raise BadSignature("the body has no signature {timestamp, token, signature}")
        _fresh(signed["timestamp"], now)
        expected = hmac.new(key.strip().encode(), f"{signed['timestamp']}{signed['token']}".encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(str(signed["signature"]).lower().encode(), expected.encode()):
            raise BadSignature("the Mailgun signature does not match")
        return str(signed["token"])[:200]
    raise BadSignature(f"{provider} webhooks cannot be verified")


async def remember(s: AsyncSession, tenant_id: str, provider: str, token: str) -> None:
    """Records a one-time token in the request's transaction; a second use raises BadSignature.
    Tokens older than twice the tolerance are forgotten (their timestamps are refused anyway)."""
    await s.execute(sa.delete(EmailWebhookNonce).where(
        EmailWebhookNonce.created_at < utcnow() - timedelta(seconds=2 * TOLERANCE_S)))
    s.add(EmailWebhookNonce(tenant_id=tenant_id, provider=provider, token=token))
    try:
        await s.flush()
    except IntegrityError:
        raise BadSignature("this webhook token was already used (replay)") from None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def provider_events(provider: str, doc: Any) -> list[tuple[str, str]]:
    """(address, bounce|complaint) from each provider's webhook format; other events are ignored."""
    out: list[tuple[str, str]] = []
    if provider == "resend":                                     # {"type": "email.bounced", "data": {"to": [..]}}
        doc = _dict(doc)
        kind = {"email.bounced": "bounce", "email.complained": "complaint"}.get(str(doc.get("type", "")))
        data = _dict(doc.get("data"))
        permanent = _dict(data.get("bounce")).get("type", "Permanent") != "Transient"
        to = data.get("to") if isinstance(data.get("to"), list) else []
        if kind and (kind == "complaint" or permanent):
            out += [(a, kind) for a in to]
    elif provider == "sendgrid" and isinstance(doc, list):       # [{"email", "event": "bounce"|"spamreport"}]
        for ev in map(_dict, doc):
            kind = {"bounce": "bounce", "spamreport": "complaint"}.get(str(ev.get("event", "")))
            if kind and ev.get("type") != "blocked":
                out.append((ev.get("email"), kind))
    elif provider == "mailgun":                                  # {"event-data": {"event", "severity", "recipient"}}
        ev = _dict(_dict(doc).get("event-data"))
        if ev.get("event") == "failed" and ev.get("severity") == "permanent":
            out.append((ev.get("recipient"), "bounce"))
        elif ev.get("event") == "complained":
            out.append((ev.get("recipient"), "complaint"))
    return [(a, k) for a, k in out if isinstance(a, str) and "@" in a]
