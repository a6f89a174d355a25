"""/api/members/invitations (create, list, resend, revoke) and /api/invitations/{token} (show, accept):
the link, the mail in the outbox, the hashed 128-bit token, newcomers and existing accounts, used,
revoked and expired links, bad input, the role matrix and other workspaces' ids."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa

from backend.db.models import Membership, utcnow
from backend.members.models import Invitation
from tests.backend.conftest import assert_problem

PASSWORD = "a-long-enough-passphrase"


def _email(label: str = "new") -> str:
    return f"{label}-{secrets.token_hex(4)}@example.com"


async def _invite(client, owner, email: str | None = None, role: str = "editor") -> dict:
    r = await client.post("/api/members/invitations", json={"email": email or _email(), "role": role},
                          headers=owner.headers)
    assert r.status_code == 201, r.text
    return r.json()


def _token(invitation: dict) -> str:
    return invitation["url"].rsplit("/", 1)[1]


async def _members(client, member) -> dict[str, str]:
    items = (await client.get("/api/members", headers=member.headers)).json()["items"]
    return {i["email"]: i["role"] for i in items}


async def _membership_count(db, tenant_id: str, email: str) -> int:
    from backend.db.models import User

    async with db.sessionmaker() as s:
        return await s.scalar(sa.select(sa.func.count()).select_from(Membership).join(User, User.id == Membership.user_id)
                              .where(Membership.tenant_id == tenant_id, User.email == email))


async def test_create_answers_the_link_once_and_stores_only_a_hash(client, db, settings, tenant_a):
    """201 {id, email, role, expires_at, url}: url ends with a 128-bit random token whose sha256 alone is stored."""
    email = _email()
    r = await client.post("/api/members/invitations", json={"email": email.upper(), "role": "viewer"},
                          headers=tenant_a.owner.headers)
    assert r.status_code == 201, r.text
    inv = r.json()
    assert {"id", "email", "role", "expires_at", "url"} <= set(inv)
    assert inv["email"] == email and inv["role"] == "viewer"
    token = _token(inv)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token)
    assert len(base64.urlsafe_b64decode(token + "==")) == 16   # 128 bits
    assert inv["url"].endswith(f"/invite/{token}")
    async with db.sessionmaker() as s:
        row = await s.get(Invitation, inv["id"])
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    delta = row.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert timedelta(days=settings.invitation_ttl_days - 1) < delta <= timedelta(days=settings.invitation_ttl_days)
    listed = (await client.get("/api/members/invitations", headers=tenant_a.owner.headers)).json()["items"]
    assert [(i["id"], i["email"], i["invited_by"]) for i in listed] == [(inv["id"], email, tenant_a.owner.user_id)]
    assert all("url" not in i and "token" not in str(i) for i in listed)   # the link is shown only once
    assert (await _invite(client, tenant_a.owner))["url"] != inv["url"]


async def test_the_invitation_mail_lands_in_the_outbox_with_the_link(client, tenant_a):
    """The invitation is mailed through the built-in outbox; the mail holds the link and names the inviter."""
    email = _email("mailed")
    inv = await _invite(client, tenant_a.owner, email)
    assert inv["mail_status"] in ("sent", "outbox", "queued"), inv
    items = (await client.get("/api/email/outbox", headers=tenant_a.owner.headers)).json()
    mail = next(i for i in items if i["recipient"] == email)
    raw = (await client.get(f"/api/email/outbox/{mail['id']}", headers=tenant_a.owner.headers)).json()["raw"]
    raw = raw.replace("=\n", "").replace("=3D", "=")
    workspace = (await client.get("/api/workspaces/current", headers=tenant_a.owner.headers)).json()["name"]
    assert inv["url"] in raw and "Owner a" in raw and "editor" in raw and workspace in raw
    assert "invited" in mail["subject"].lower()


async def test_show_names_the_inviter_and_the_workspace(client, tenant_a):
    """GET /api/invitations/{token} (signed out) names who invited which address to which workspace, and the role."""
    email = _email()
    inv = await _invite(client, tenant_a.owner, email, role="viewer")
    r = await client.get(f"/api/invitations/{_token(inv)}")
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["inviter"] == "Owner a" and info["workspace"].startswith("Tenant a ")
    assert info["email"] == email and info["role"] == "viewer" and info["has_account"] is False
    assert_problem(await client.get(f"/api/invitations/{secrets.token_urlsafe(16)}"), 404)
    assert_problem(await client.get(f"/api/invitations/{'x' * 500}"), 404)


async def test_a_newcomer_accepts_with_name_and_password(client, db, tenant_a):
    """A new address accepts with name and password: 201, a session cookie in the workspace with the invited role."""
    email = _email()
    inv = await _invite(client, tenant_a.owner, email, role="editor")
    weak = await client.post(f"/api/invitations/{_token(inv)}/accept", json={"name": "Newt", "password": "short"})
    assert assert_problem(weak, 422)["field"] == "password"
    common = await client.post(f"/api/invitations/{_token(inv)}/accept", json={"name": "Newt", "password": "1234567890"})
    assert assert_problem(common, 422)["field"] == "password"
    none = await client.post(f"/api/invitations/{_token(inv)}/accept", json={"name": "Newt"})
    assert assert_problem(none, 422)["field"] == "password"
    r = await client.post(f"/api/invitations/{_token(inv)}/accept", json={"name": "Newt", "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["tenant_id"] == tenant_a.id and r.json()["role"] == "editor" and r.json()["created"] is True
    assert "maily_session" in client.cookies
    me = (await client.get("/api/auth/me")).json()
    assert me["email"] == email and me["name"] == "Newt" and me["tenant_id"] == tenant_a.id and me["role"] == "editor"
    client.cookies.clear()
    r = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200
    client.cookies.clear()
    assert (await _members(client, tenant_a.owner))[email] == "editor"
    assert (await client.get("/api/members/invitations", headers=tenant_a.owner.headers)).json()["items"] == []
    audit = (await client.get("/api/audit/?action=invitation.", headers=tenant_a.owner.headers)).json()
    assert {"invitation.create", "invitation.accept"} <= {e["action"] for e in audit}
    accepted = next(e for e in audit if e["action"] == "invitation.accept")
    assert accepted["actor_email"] == email and accepted["details"]["new_account"] is True


async def test_an_existing_account_joins_signed_in(client, db, tenant_a, tenant_b):
    """Someone with an account, signed in, accepts: 200, the same user is now a member of both workspaces."""
    guest = tenant_b.editor
    inv = await _invite(client, tenant_a.owner, guest.email, role="viewer")
    info = (await client.get(f"/api/invitations/{_token(inv)}")).json()
    assert info["has_account"] is True
    r = await client.post(f"/api/invitations/{_token(inv)}/accept", json={})
    assert assert_problem(r, 401)["field"] == "password"   # signed out, no password: who are you?
    client.cookies.clear()
    assert (await client.post("/api/auth/login", json={"email": guest.email, "password": guest.password})).status_code == 200
    r = await client.post(f"/api/invitations/{_token(inv)}/accept", json={})
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": guest.user_id, "tenant_id": tenant_a.id, "role": "viewer", "created": False}
    me = (await client.get("/api/auth/me")).json()
    assert me["tenant_id"] == tenant_a.id and {t["id"] for t in me["tenants"]} == {tenant_a.id, tenant_b.id}
    client.cookies.clear()
    assert (await _members(client, tenant_b.owner))[guest.email] == "editor"   # the other membership untouched


async def test_an_existing_account_may_accept_with_its_password_but_not_as_someone_else(client, tenant_a, tenant_b):
    """Signed out, the account's password accepts; a wrong password, or being signed in as another person, is 401."""
    guest = tenant_b.viewer
    inv = await _invite(client, tenant_a.owner, guest.email)
    url = f"/api/invitations/{_token(inv)}/accept"
    assert_problem(await client.post(url, json={"password": "wrong-password-1"}), 401)
    assert (await client.post("/api/auth/login", json={"email": tenant_b.owner.email,
                                                       "password": tenant_b.owner.password})).status_code == 200
    assert_problem(await client.post(url, json={}), 401)
    client.cookies.clear()
    r = await client.post(url, json={"password": guest.password})
    assert r.status_code == 200 and r.json()["user_id"] == guest.user_id


async def test_a_used_link_is_409_and_never_makes_a_second_membership(client, db, tenant_a):
    """Accepting twice (one after the other, or two at once) makes one membership; the other answer is 409."""
    email = _email()
    inv = await _invite(client, tenant_a.owner, email)
    url = f"/api/invitations/{_token(inv)}/accept"
    r1, r2 = await asyncio.gather(client.post(url, json={"name": "A", "password": PASSWORD}),
                                  client.post(url, json={"name": "B", "password": PASSWORD}))
    assert sorted([r1.status_code, r2.status_code]) == [201, 409], (r1.text, r2.text)
    assert_problem(r1 if r1.status_code == 409 else r2, 409)
    client.cookies.clear()
    assert_problem(await client.post(url, json={"name": "C", "password": PASSWORD}), 409)
    assert_problem(await client.get(f"/api/invitations/{_token(inv)}"), 409)
    assert await _membership_count(db, tenant_a.id, email) == 1


async def test_a_revoked_link_is_404_and_a_replaced_one_too(client, db, tenant_a):
    """DELETE /api/members/invitations/{id} is 204 and the link answers 404; resend's new link replaces the old one."""
    email = _email()
    inv = await _invite(client, tenant_a.owner, email)
    r = await client.post(f"/api/members/invitations/{inv['id']}/resend", headers=tenant_a.owner.headers)
    assert r.status_code == 200, r.text
    again = r.json()
    assert again["id"] == inv["id"] and again["url"] != inv["url"] and again["email"] == email
    assert_problem(await client.get(f"/api/invitations/{_token(inv)}"), 404)   # the old link is gone
    assert (await client.get(f"/api/invitations/{_token(again)}")).status_code == 200
    outbox = (await client.get("/api/email/outbox", headers=tenant_a.owner.headers)).json()
    assert sum(1 for m in outbox if m["recipient"] == email) == 2   # mailed again
    assert (await client.delete(f"/api/members/invitations/{inv['id']}", headers=tenant_a.owner.headers)).status_code == 204
    url = f"/api/invitations/{_token(again)}"
    assert_problem(await client.get(url), 404)
    assert_problem(await client.post(f"{url}/accept", json={"name": "X", "password": PASSWORD}), 404)
    assert await _membership_count(db, tenant_a.id, email) == 0
    assert (await client.get("/api/members/invitations", headers=tenant_a.owner.headers)).json()["items"] == []
    assert (await client.delete(f"/api/members/invitations/{inv['id']}", headers=tenant_a.owner.headers)).status_code == 204
    assert_problem(await client.post(f"/api/members/invitations/{inv['id']}/resend", headers=tenant_a.owner.headers), 409)
    audit = (await client.get("/api/audit/?action=invitation.", headers=tenant_a.owner.headers)).json()
    assert {"invitation.create", "invitation.resend", "invitation.revoke"} <= {e["action"] for e in audit}


async def test_an_expired_link_is_410(client, db, tenant_a):
    """Past expires_at, showing and accepting are 410 and nobody joins; resend gives a fresh link that works."""
    email = _email()
    inv = await _invite(client, tenant_a.owner, email)
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(Invitation).where(Invitation.id == inv["id"])
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    url = f"/api/invitations/{_token(inv)}"
    assert_problem(await client.get(url), 410)
    assert_problem(await client.post(f"{url}/accept", json={"name": "X", "password": PASSWORD}), 410)
    assert await _membership_count(db, tenant_a.id, email) == 0
    fresh = (await client.post(f"/api/members/invitations/{inv['id']}/resend", headers=tenant_a.owner.headers)).json()
    r = await client.post(f"/api/invitations/{_token(fresh)}/accept", json={"name": "X", "password": PASSWORD})
    assert r.status_code == 201, r.text


async def test_create_refusals(client, tenant_a):
    """A member's email is 409, a second pending invitation 409, a bad email or role 422, a malformed body 400."""
    h = tenant_a.owner.headers
    doc = assert_problem(await client.post("/api/members/invitations", json={"email": tenant_a.viewer.email.upper(),
                                                                              "role": "editor"}, headers=h), 409)
    assert doc["field"] == "email"
    email = _email()
    inv = await _invite(client, tenant_a.owner, email)
    doc = assert_problem(await client.post("/api/members/invitations", json={"email": email, "role": "viewer"},
                                           headers=h), 409)
    assert doc["invitation_id"] == inv["id"]
    for bad in ({"email": "not-an-email", "role": "editor"}, {"email": "a b@example.com", "role": "editor"},
                {"email": "x@localhost", "role": "editor"},
                {"email": _email(), "role": "admin"}, {"role": "editor"}):
        field = "role" if bad.get("role") == "admin" else "email"
        assert assert_problem(await client.post("/api/members/invitations", json=bad, headers=h), 422)["field"] == field
    r = await client.post("/api/members/invitations", content=b"[", headers={**h, "content-type": "application/json"})
    assert_problem(r, 400)


async def test_only_an_owner_invites_an_owner_and_an_owner_may(client, tenant_a):
    """Role owner is a valid invitation from an owner; the invitee joins as owner."""
    inv = await _invite(client, tenant_a.owner, role="owner")
    r = await client.post(f"/api/invitations/{_token(inv)}/accept", json={"name": "Co", "password": PASSWORD})
    assert r.status_code == 201 and r.json()["role"] == "owner"


async def test_another_workspaces_invitation_is_404(client, tenant_a, tenant_b):
    """Resending or revoking another workspace's invitation id, or a junk id, is 404 and leaves it pending."""
    inv = await _invite(client, tenant_b.owner)
    for iid in (inv["id"], "nope", "0" * 32):
        assert_problem(await client.post(f"/api/members/invitations/{iid}/resend", headers=tenant_a.owner.headers), 404)
        assert_problem(await client.delete(f"/api/members/invitations/{iid}", headers=tenant_a.owner.headers), 404)
    assert (await client.get("/api/members/invitations", headers=tenant_a.owner.headers)).json()["items"] == []
    assert (await client.get(f"/api/invitations/{_token(inv)}")).status_code == 200


async def test_an_accepted_invitation_cannot_be_revoked_or_resent(client, tenant_a):
    """Revoking or resending an invitation that was accepted is 409: remove the member instead."""
    inv = await _invite(client, tenant_a.owner)
    assert (await client.post(f"/api/invitations/{_token(inv)}/accept",
                              json={"name": "Y", "password": PASSWORD})).status_code == 201
    client.cookies.clear()
    h = tenant_a.owner.headers
    assert_problem(await client.delete(f"/api/members/invitations/{inv['id']}", headers=h), 409)
    assert_problem(await client.post(f"/api/members/invitations/{inv['id']}/resend", headers=h), 409)


async def test_accepting_when_already_a_member_is_409(client, db, tenant_a, tenant_b):
    """Someone who became a member another way before accepting gets 409 and still one membership."""
    guest = tenant_b.editor
    inv = await _invite(client, tenant_a.owner, guest.email)
    from backend.auth import services as auth

    async with db.sessionmaker() as s, s.begin():
        await auth.add_member(s, tenant_a.id, guest.user_id, "viewer")
    r = await client.post(f"/api/invitations/{_token(inv)}/accept", json={"password": guest.password})
    assert_problem(r, 409)
    assert await _membership_count(db, tenant_a.id, guest.email) == 1
    assert (await _members(client, tenant_a.owner))[guest.email] == "viewer"


async def test_passwords_sent_to_accept_count_as_sign_in_attempts(settings, tenant_a, tenant_b):
    """Guessing an existing account's password through an invitation link is rate-limited like sign-in (429)."""
    from litestar.testing import AsyncTestClient

    from backend.app import create_app

    guest = tenant_b.viewer
    async with AsyncTestClient(app=create_app(settings.model_copy(update={"signin_account_rate": "3/minute"}))) as c:
        inv = await _invite(c, tenant_a.owner, guest.email)
        url = f"/api/invitations/{_token(inv)}/accept"
        for i in range(3):
            assert_problem(await c.post(url, json={"password": f"guess-number-{i}"}), 401)
        r = await c.post(url, json={"password": guest.password})
        assert_problem(r, 429)
        assert r.headers["retry-after"]
        assert_problem(await c.post("/api/auth/login", json={"email": guest.email, "password": guest.password}), 429)


async def test_with_sign_up_closed_only_existing_accounts_accept(settings, tenant_a, tenant_b):
    """MAILY_SIGNUP=closed: a newcomer's accept is 403 (no account is made), an existing account still joins."""
    from litestar.testing import AsyncTestClient

    from backend.app import create_app

    async with AsyncTestClient(app=create_app(settings.model_copy(update={"signup": "closed"}))) as c:
        newcomer = await _invite(c, tenant_a.owner)
        r = await c.post(f"/api/invitations/{_token(newcomer)}/accept", json={"name": "N", "password": PASSWORD})
        assert "closed" in assert_problem(r, 403)["detail"]
        assert (await c.get(f"/api/invitations/{_token(newcomer)}")).status_code == 200   # still pending
        guest = tenant_b.owner
        known = await _invite(c, tenant_a.owner, guest.email)
        r = await c.post(f"/api/invitations/{_token(known)}/accept", json={"password": guest.password})
        assert r.status_code == 200, r.text


async def test_accepting_from_another_origin_is_refused(client, tenant_a):
    """Accepting signs in, so a foreign Origin is refused (login CSRF, 403) and the link stays unused."""
    inv = await _invite(client, tenant_a.owner)
    r = await client.post(f"/api/invitations/{_token(inv)}/accept", json={"name": "E", "password": PASSWORD},
                          headers={"Origin": "https://evil.example"})
    assert assert_problem(r, 403)["type"].endswith("csrf")
    assert (await client.get(f"/api/invitations/{_token(inv)}")).status_code == 200


async def test_an_address_has_at_most_one_live_link(client, db, tenant_a):
    """With an expired invitation and a newer pending one for the same address, resending the old one is 409."""
    email = _email()
    old = await _invite(client, tenant_a.owner, email)
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(Invitation).where(Invitation.id == old["id"])
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    new = await _invite(client, tenant_a.owner, email)   # the expired one does not block a new invitation
    doc = assert_problem(await client.post(f"/api/members/invitations/{old['id']}/resend",
                                           headers=tenant_a.owner.headers), 409)
    assert doc["invitation_id"] == new["id"]
    assert_problem(await client.get(f"/api/invitations/{_token(old)}"), 410)
