"""Account: name, password change, password reset by a single-use mailed link."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import timedelta

from backend.auth import services as auth
from backend.auth.models import PasswordReset
from backend.db.models import utcnow
from tests.backend.conftest import assert_problem

NEW_PASSWORD = "a-brand-new-passphrase"


async def _login(client, email: str, password: str) -> int:
    client.cookies.clear()
    return (await client.post("/api/auth/login", json={"email": email, "password": password})).status_code


async def test_patch_me_changes_the_name_and_me_has_is_admin(client, tenant_a):
    """PATCH /api/auth/me renames the caller; /me answers is_admin (false for a normal user)."""
    r = await client.patch("/api/auth/me", json={"name": "Grace"}, headers=tenant_a.editor.headers)
    assert r.status_code == 200, r.text
    me = (await client.get("/api/auth/me", headers=tenant_a.editor.headers)).json()
    assert me["name"] == "Grace" and me["is_admin"] is False
    assert_problem(await client.patch("/api/auth/me", json={"name": ""}, headers=tenant_a.editor.headers), 422)
    assert_problem(await client.patch("/api/auth/me", json={"name": "x"}), 401)


async def test_password_change(client, tenant_a):
    """A wrong current password is 403, a weak new one 422 naming new_password; then only the new password signs in."""
    ed = tenant_a.editor
    assert await _login(client, ed.email, ed.password) == 200
    r = await client.post("/api/auth/password", json={"current_password": "wrong", "new_password": NEW_PASSWORD})
    assert_problem(r, 403)
    r = await client.post("/api/auth/password", json={"current_password": ed.password, "new_password": "short"})
    assert assert_problem(r, 422)["field"] == "new_password"
    r = await client.post("/api/auth/password", json={"current_password": ed.password, "new_password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    assert (await client.get("/api/auth/me")).status_code == 200   # the current session stays
    assert await _login(client, ed.email, ed.password) == 401
    assert await _login(client, ed.email, NEW_PASSWORD) == 200
    audit = (await client.get("/api/audit/?action=auth.", headers=tenant_a.owner.headers)).json()
    assert "auth.password_change" in {e["action"] for e in audit}


async def _user_with_mailbox(db) -> tuple[str, str, str, str]:
    """A user with a deliverable-looking address and their own workspace (the outbox is per workspace)."""
    tag = secrets.token_hex(4)
    async with db.sessionmaker() as s, s.begin():
        tenant = await auth.create_tenant(s, f"Reset {tag}", f"reset-{tag}")
        user = await auth.create_user(s, f"reset-{tag}@example.com", "old-password-1", name="R")
        await auth.add_member(s, tenant.id, user.id, "owner")
        _, token = await auth.create_api_token(s, tenant.id, user.id, "t")
    return user.email, "old-password-1", token, tenant.id


async def _mailed_link(client, token: str) -> str:
    """Polls the workspace's outbox until the reset mail is there; the link in it."""
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(200):
        items = (await client.get("/api/email/outbox", headers=headers)).json()
        if items:
            raw = (await client.get(f"/api/email/outbox/{items[0]['id']}", headers=headers)).json()["raw"]
            return re.search(r"https?://\S+/reset/[A-Za-z0-9_-]+", raw.replace("=\n", "")).group(0)
        await asyncio.sleep(0.05)
    raise AssertionError("no reset mail in the outbox")


async def test_password_reset_by_mailed_link(client, db, settings):
    """The reset mail lands in the workspace outbox; its link sets the password once and ends every session."""
    email, old, token, _ = await _user_with_mailbox(db)
    assert await _login(client, email, old) == 200
    session_cookie = client.cookies["maily_session"]
    r = await client.post("/api/auth/password-reset", json={"email": email.upper()})
    assert r.status_code == 202 and r.content == b""
    link = await _mailed_link(client, token)
    assert link.startswith(f"http://{settings.host}:{settings.port}/reset/")
    reset_token = link.rsplit("/", 1)[1]
    weak = await client.post("/api/auth/password-reset/confirm", json={"token": reset_token, "password": "123"})
    assert assert_problem(weak, 422)["field"] == "password"
    r = await client.post("/api/auth/password-reset/confirm", json={"token": reset_token, "password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    client.cookies.clear()
    client.cookies.set("maily_session", session_cookie)
    assert_problem(await client.get("/api/auth/me"), 401)   # sessions ended
    assert await _login(client, email, old) == 401
    assert await _login(client, email, NEW_PASSWORD) == 200
    again = await client.post("/api/auth/password-reset/confirm", json={"token": reset_token, "password": NEW_PASSWORD})
    assert_problem(again, 410)
    actions = {e["action"] for e in (await client.get("/api/audit/", headers={"Authorization": f"Bearer {token}"})).json()}
    assert "auth.password_reset" in actions


async def test_password_reset_of_an_unknown_email_is_202_and_mails_nothing(client, db, tenant_a):
    """An address without an account gets the same empty 202 and no link is stored."""
    before = await _count_resets(db)
    r = await client.post("/api/auth/password-reset", json={"email": f"nobody-{secrets.token_hex(4)}@example.com"})
    assert r.status_code == 202 and r.content == b""
    assert await _count_resets(db) == before


async def _count_resets(db) -> int:
    from sqlalchemy import func, select

    async with db.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(PasswordReset))


async def test_unknown_and_expired_reset_tokens(client, db):
    """An unknown token is 404, an expired one 410."""
    r = await client.post("/api/auth/password-reset/confirm", json={"token": "nope", "password": NEW_PASSWORD})
    assert_problem(r, 404)
    email, _, _, _ = await _user_with_mailbox(db)
    expired = secrets.token_urlsafe(16)
    async with db.sessionmaker() as s, s.begin():
        user = await auth.user_by_email(s, email)
        s.add(PasswordReset(id=auth.hash_token(expired), user_id=user.id, expires_at=utcnow() - timedelta(seconds=1)))
    r = await client.post("/api/auth/password-reset/confirm", json={"token": expired, "password": NEW_PASSWORD})
    assert_problem(r, 410)
