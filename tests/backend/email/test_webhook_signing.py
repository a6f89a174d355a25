"""Signed bounce/complaint webhooks,: requests are signed here exactly
as Resend (Svix), SendGrid (ECDSA) and Mailgun (HMAC in the body) sign them; a tampered,
stale, unsigned or replayed request is a 401 problem and suppresses nobody."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.backend.conftest import assert_problem

BOUNCE = {
    "resend": {"type": "email.bounced", "data": {"to": ["x@example.com"], "bounce": {"type": "Permanent"}}},
    "sendgrid": [{"email": "x@example.com", "event": "bounce"}],
    "mailgun": {"event-data": {"event": "failed", "severity": "permanent", "recipient": "x@example.com"}},
}


def svix_headers(secret: str, body: bytes, ts: int | None = None, msg_id: str = "msg_1") -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    mac = hmac.new(base64.b64decode(secret.removeprefix("whsec_")), f"{msg_id}.{ts}.".encode() + body, hashlib.sha256)
    return {"svix-id": msg_id, "svix-timestamp": str(ts), "svix-signature": "v1," + base64.b64encode(mac.digest()).decode()}


def sendgrid_headers(key: ec.EllipticCurvePrivateKey, body: bytes, ts: int | None = None) -> dict[str, str]:
    ts_s = str(int(time.time()) if ts is None else ts)
    sig = key.sign(ts_s.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(sig).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": ts_s}


def sendgrid_public(key: ec.EllipticCurvePrivateKey, pem: bool = False) -> str:
    pub = key.public_key()
    if pem:
        return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()          # as SendGrid's Mail Settings shows it


def mailgun_body(key: str, event: dict, ts: int | None = None, token: str | None = None) -> bytes:
    ts_s = str(int(time.time()) if ts is None else ts)
    token = token or secrets.token_hex(25)
    sig = hmac.new(key.encode(), (ts_s + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps({"signature": {"timestamp": ts_s, "token": token, "signature": sig}, **event}).encode()


async def configure(client, tenant, kind: str, signing_key: str | None) -> str:
    """Sets the tenant's provider (and signing key); returns the webhook path."""
    cfg = {"kind": kind, "secret": "api-key", "domain": "mg.example.com"}
    if signing_key is not None:
        cfg["webhook_signing_key"] = signing_key
    r = await client.put("/api/email/provider", json=cfg, headers=tenant.owner.headers)
    assert r.status_code == 200, r.text
    token = r.json()["webhook_url"].rsplit("/", 1)[1]
    return f"/api/email/webhooks/{kind}/{token}"


async def suppressed(client, tenant) -> list[str]:
    return [s["email"] for s in (await client.get("/api/email/suppressions", headers=tenant.viewer.headers)).json()]


async def refused(client, tenant, path: str, body: bytes, headers: dict[str, str]) -> dict:
    doc = assert_problem(await client.post(path, content=body, headers={"content-type": "application/json", **headers}), 401)
    assert await suppressed(client, tenant) == []
    return doc


async def accepted(client, tenant, path: str, body: bytes, headers: dict[str, str]) -> None:
    r = await client.post(path, content=body, headers={"content-type": "application/json", **headers})
    assert r.status_code == 200, r.text
    assert r.json() == {"suppressed": 1, "verified_by": "signature"}
    assert await suppressed(client, tenant) == ["x@example.com"]


class TestResendSvix:
    SECRET = "whsec_" + base64.b64encode(b"resend-test-signing-secret-32by").decode()

    async def test_a_correctly_signed_bounce_is_accepted(self, client, tenant_a):
        """The Svix signature over id.timestamp.body with the whsec_ key verifies; the address is suppressed."""
        path = await configure(client, tenant_a, "resend", self.SECRET)
        body = json.dumps(BOUNCE["resend"]).encode()
        await accepted(client, tenant_a, path, body, svix_headers(self.SECRET, body))

    async def test_tampered_unsigned_and_stale_requests_are_refused(self, client, tenant_a):
        """Changing the body, the timestamp or the signature, leaving headers out, or a timestamp over 5 min old: 401."""
        path = await configure(client, tenant_a, "resend", self.SECRET)
        body = json.dumps(BOUNCE["resend"]).encode()
        good = svix_headers(self.SECRET, body)
        await refused(client, tenant_a, path, body.replace(b"x@example.com", b"y@example.com"), good)
        await refused(client, tenant_a, path, body, {**good, "svix-timestamp": str(int(good["svix-timestamp"]) + 1)})
        await refused(client, tenant_a, path, body, {**good, "svix-signature": good["svix-signature"][:-6] + "AAAAA="})
        await refused(client, tenant_a, path, body, {**good, "svix-id": "msg_2"})
        await refused(client, tenant_a, path, body, {})
        other = "whsec_" + base64.b64encode(b"another-secret-entirely-32bytes").decode()
        await refused(client, tenant_a, path, body, svix_headers(other, body))
        await refused(client, tenant_a, path, body, svix_headers(self.SECRET, body, ts=int(time.time()) - 301))
        await refused(client, tenant_a, path, body, svix_headers(self.SECRET, body, ts=int(time.time()) + 301))

    async def test_one_matching_signature_among_several_is_enough(self, client, tenant_a):
        """During a secret rotation Svix sends several space-separated signatures."""
        path = await configure(client, tenant_a, "resend", self.SECRET)
        body = json.dumps(BOUNCE["resend"]).encode()
        h = svix_headers(self.SECRET, body)
        h["svix-signature"] = "v1,bm90LXRoaXMtb25l " + h["svix-signature"]
        await accepted(client, tenant_a, path, body, h)

    async def test_the_secret_is_stored_encrypted_and_never_returned(self, client, tenant_a, db):
        """The vault row holds an AES-GCM token, GET shows only which provider is verified."""
        import sqlalchemy as sa

        from backend.credentials.models import Credential
        await configure(client, tenant_a, "resend", self.SECRET)
        r = await client.get("/api/email/provider", headers=tenant_a.owner.headers)
        assert self.SECRET not in r.text and r.json()["webhook_signing_provider"] == "resend"
        assert r.json()["webhook_verification"].startswith("signature")
        async with db.sessionmaker() as s:
            [row] = await s.scalars(sa.select(Credential).where(Credential.tenant_id == tenant_a.id,
                                                                Credential.type == "email_provider"))
        assert row.secret.startswith("v1:") and self.SECRET[6:] not in row.secret + str(row.fields)


class TestSendGridEcdsa:
    async def test_a_signed_event_batch_is_accepted_with_the_base64_or_pem_key(self, client, tenant_a, tenant_b):
        """ECDSA P-256 over timestamp+payload verifies with the key as SendGrid shows it (base64 DER) or as PEM."""
        for tenant, pem in ((tenant_a, False), (tenant_b, True)):
            key = ec.generate_private_key(ec.SECP256R1())
            path = await configure(client, tenant, "sendgrid", sendgrid_public(key, pem=pem))
            body = json.dumps(BOUNCE["sendgrid"]).encode()
            await accepted(client, tenant, path, body, sendgrid_headers(key, body))

    async def test_tampered_foreign_and_stale_signatures_are_refused(self, client, tenant_a):
        """Another body or timestamp under the same signature, another key's signature, or an old timestamp: 401."""
        key = ec.generate_private_key(ec.SECP256R1())
        path = await configure(client, tenant_a, "sendgrid", sendgrid_public(key))
        body = json.dumps(BOUNCE["sendgrid"]).encode()
        good = sendgrid_headers(key, body)
        await refused(client, tenant_a, path, body + b" ", good)
        ts = "X-Twilio-Email-Event-Webhook-Timestamp"
        await refused(client, tenant_a, path, body, {**good, ts: str(int(good[ts]) - 1)})
        await refused(client, tenant_a, path, body, sendgrid_headers(ec.generate_private_key(ec.SECP256R1()), body))
        await refused(client, tenant_a, path, body, {**good, "X-Twilio-Email-Event-Webhook-Signature": "bm9wZQ=="})
        await refused(client, tenant_a, path, body, {ts: good[ts]})
        await refused(client, tenant_a, path, body, sendgrid_headers(key, body, ts=int(time.time()) - 400))

    async def test_a_key_that_is_not_an_ec_public_key_is_refused_when_set(self, client, tenant_a):
        """PUT /api/email/provider answers 400 naming webhook_signing_key, and keeps nothing."""
        r = await client.put("/api/email/provider", json={"kind": "sendgrid", "webhook_signing_key": "not a key"},
                             headers=tenant_a.owner.headers)
        assert assert_problem(r, 400)["field"] == "webhook_signing_key"
        r = await client.put("/api/email/provider", json={"kind": "resend", "webhook_signing_key": "whsec_!!"},
                             headers=tenant_a.owner.headers)
        assert assert_problem(r, 400)["field"] == "webhook_signing_key"
        assert (await client.get("/api/email/provider", headers=tenant_a.owner.headers)).json()["webhook_signing_provider"] is None


class TestMailgunHmac:
    KEY = "key-mailgun-webhook-signing-0123456789"

    async def test_a_signed_event_is_accepted_once_and_its_replay_refused(self, client, tenant_a):
        """HMAC(key, timestamp+token) verifies; the very same request again is a replay: 401."""
        path = await configure(client, tenant_a, "mailgun", self.KEY)
        body = mailgun_body(self.KEY, BOUNCE["mailgun"])
        await accepted(client, tenant_a, path, body, {})
        r = await client.post(path, content=body, headers={"content-type": "application/json"})
        assert "replay" in assert_problem(r, 401)["detail"]

    async def test_tampered_missing_and_stale_signatures_are_refused(self, client, tenant_a):
        """Another token or timestamp under the signature, no signature, a wrong key, or an old timestamp: 401."""
        path = await configure(client, tenant_a, "mailgun", self.KEY)
        good = json.loads(mailgun_body(self.KEY, BOUNCE["mailgun"]))
        for field, value in (("token", "f" * 50), ("timestamp", str(int(good["signature"]["timestamp"]) + 1)),
                             ("signature", "0" * 64)):
            doc = {**good, "signature": {**good["signature"], field: value}}
            await refused(client, tenant_a, path, json.dumps(doc).encode(), {})
        await refused(client, tenant_a, path, json.dumps(BOUNCE["mailgun"]).encode(), {})
        await refused(client, tenant_a, path, mailgun_body("key-someone-else-0123456789", BOUNCE["mailgun"]), {})
        await refused(client, tenant_a, path, mailgun_body(self.KEY, BOUNCE["mailgun"], ts=int(time.time()) - 301), {})


class TestWithoutOrAcrossKeys:
    async def test_without_a_signing_key_the_url_token_alone_authenticates_and_says_so(self, client, tenant_a):
        """No key: an unsigned request with the right URL is accepted, marked url_token, and GET says so."""
        path = await configure(client, tenant_a, "resend", None)
        assert (await client.get("/api/email/provider", headers=tenant_a.owner.headers)).json()[
            "webhook_verification"].startswith("url_token")
        r = await client.post(path, json=BOUNCE["resend"])
        assert r.status_code == 200 and r.json() == {"suppressed": 1, "verified_by": "url_token"}
        assert_problem(await client.post(path + "x", json=BOUNCE["resend"]), 404)

    async def test_a_key_for_one_provider_refuses_unsigned_posts_to_another_provider_path(self, client, tenant_a):
        """With a Resend key on file, the SendGrid and Mailgun paths cannot bypass it with the URL token."""
        path = await configure(client, tenant_a, "resend", TestResendSvix.SECRET)
        for other in ("sendgrid", "mailgun"):
            await refused(client, tenant_a, path.replace("/resend/", f"/{other}/"),
                          json.dumps(BOUNCE[other]).encode(), {})

    async def test_an_empty_key_removes_it_and_an_absent_one_keeps_it(self, client, tenant_a):
        """PUT without webhook_signing_key keeps the key; "" removes it, and unsigned posts are accepted again."""
        path = await configure(client, tenant_a, "resend", TestResendSvix.SECRET)
        await configure(client, tenant_a, "resend", None)
        await refused(client, tenant_a, path, json.dumps(BOUNCE["resend"]).encode(), {})
        await configure(client, tenant_a, "resend", "")
        r = await client.post(path, json=BOUNCE["resend"])
        assert r.status_code == 200 and r.json()["verified_by"] == "url_token"


@pytest.mark.parametrize("body", [b"[]", b"{\"type\": [1]}", b"{\"event-data\": []}", b"[1, \"x\", {\"event\": [2]}]"])
async def test_odd_payloads_suppress_nobody_and_never_fail(client, tenant_a, body):
    """Shapes no provider sends are ignored (200, nothing suppressed), never a 500."""
    token = (await client.get("/api/email/provider", headers=tenant_a.owner.headers)).json()["webhook_url"].rsplit("/", 1)[1]
    for provider in ("resend", "sendgrid", "mailgun"):
        r = await client.post(f"/api/email/webhooks/{provider}/{token}", content=body,
                              headers={"content-type": "application/json"})
        assert r.status_code == 200 and r.json()["suppressed"] == 0, r.text
