"""Server-side sessions: an opaque cookie, hashed at rest, a new id at every sign-in, revocable
(logout, DELETE /api/auth/sessions/{id}, password change), listed per user."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from backend.auth.models import AuthSession
from tests.backend.conftest import assert_problem


async def _login(client, member) -> str:
    """Signs in as a fresh browser (no cookies); returns the session cookie's value."""
    client.cookies.clear()
    r = await client.post("/api/auth/login", json={"email": member.email, "password": member.password})
    assert r.status_code == 200, r.text
    return client.cookies["maily_session"]


def _use(client, token: str) -> None:
    """Make the client act as the browser holding this session cookie."""
    client.cookies.clear()
    client.cookies.set("maily_session", token)


async def test_cookie_is_opaque_httponly_lax_and_stored_hashed(client, db, tenant_a):
    """The session cookie is an HttpOnly SameSite=Lax opaque token whose sha256 is the row id; the CSRF cookie is readable."""
    r = await client.post("/api/auth/login", json={"email": tenant_a.owner.email, "password": tenant_a.owner.password})
    by_name = {c.split("=", 1)[0]: c.lower() for c in r.headers.get_list("set-cookie")}
    assert "httponly" in by_name["maily_session"] and "samesite=lax" in by_name["maily_session"]
    assert "httponly" not in by_name["maily_csrf"] and "samesite=lax" in by_name["maily_csrf"]
    token = client.cookies["maily_session"]
    assert tenant_a.owner.user_id not in token and len(token) >= 40
    async with db.sessionmaker() as s:
        row = await s.get(AuthSession, hashlib.sha256(token.encode()).hexdigest())
        assert row is not None and row.user_id == tenant_a.owner.user_id and row.tenant_id == tenant_a.id
        assert await s.scalar(select(AuthSession).where(AuthSession.id == token)) is None


async def test_session_id_changes_at_sign_in_and_the_old_one_stops(client, tenant_a):
    """Signing in again from a browser that holds a session gives a new token, and the previous one stops working."""
    first = await _login(client, tenant_a.owner)
    r = await client.post("/api/auth/login", json={"email": tenant_a.owner.email, "password": tenant_a.owner.password})
    assert r.status_code == 200, r.text
    second = client.cookies["maily_session"]
    assert first != second
    _use(client, first)
    assert_problem(await client.get("/api/auth/me"), 401)
    _use(client, second)
    assert (await client.get("/api/auth/me")).status_code == 200


async def test_logout_revokes_a_captured_cookie(client, tenant_a):
    """After logout a copy of the session cookie is refused with 401."""
    captured = await _login(client, tenant_a.editor)
    r = await client.post("/api/auth/logout")
    assert r.status_code == 204 and "maily_session=" in r.headers["set-cookie"]
    _use(client, captured)
    assert_problem(await client.get("/api/auth/me"), 401)


async def test_forged_and_oversized_cookies_are_anonymous(client):
    """A session cookie that names no session is anonymous (401), never an error."""
    for value in ("nope", "x" * 5000):
        client.cookies.set("maily_session", value)
        assert_problem(await client.get("/api/auth/me"), 401)


async def test_sessions_are_listed_and_one_can_be_revoked(client, tenant_a):
    """GET /api/auth/sessions lists the user's sessions with the current one marked; DELETE ends another at once (audited)."""
    laptop = await _login(client, tenant_a.owner)
    phone = await _login(client, tenant_a.owner)
    items = (await client.get("/api/auth/sessions")).json()["items"]
    assert len(items) == 2 and sum(i["current"] for i in items) == 1
    other = next(i for i in items if not i["current"])
    assert set(other) == {"id", "created_at", "last_seen_at", "user_agent", "ip", "current"}
    assert (await client.delete(f"/api/auth/sessions/{other['id']}")).status_code == 204
    assert (await client.get("/api/auth/me")).status_code == 200
    assert_problem(await client.delete(f"/api/auth/sessions/{other['id']}"), 404)
    _use(client, laptop)
    assert_problem(await client.get("/api/auth/me"), 401)
    _use(client, phone)
    assert (await client.get("/api/auth/me")).status_code == 200
    trail = (await client.get("/api/audit/?action=session.revoke")).json()
    assert [e["target_id"] for e in trail] == [other["id"]]


async def test_cannot_revoke_another_users_session(client, tenant_a, tenant_b):
    """Another user's session id is a 404 and that session keeps working."""
    victim = await _login(client, tenant_b.owner)
    victim_id = (await client.get("/api/auth/sessions")).json()["items"][0]["id"]
    await _login(client, tenant_a.owner)
    assert_problem(await client.delete(f"/api/auth/sessions/{victim_id}"), 404)
    assert_problem(await client.delete("/api/auth/sessions/%00junk"), 404)
    _use(client, victim)
    assert (await client.get("/api/auth/me")).status_code == 200


async def test_revoking_the_current_session_signs_out(client, tenant_a):
    """Revoking one's own current session answers 204 and the next request is 401."""
    await _login(client, tenant_a.viewer)
    current = (await client.get("/api/auth/sessions")).json()["items"][0]
    assert current["current"]
    assert (await client.delete(f"/api/auth/sessions/{current['id']}")).status_code == 204
    assert_problem(await client.get("/api/auth/me"), 401)


async def test_sessions_need_a_caller(client):
    """The session endpoints refuse anonymous callers with 401."""
    assert_problem(await client.get("/api/auth/sessions"), 401)
    assert_problem(await client.delete("/api/auth/sessions/" + "0" * 32), 401)


async def test_expired_session_is_anonymous_and_last_seen_moves_at_most_once_a_minute(client, db, tenant_a):
    """last_seen_at is written when older than a minute (not on every request), and a session past expires_at is 401."""
    from datetime import timedelta

    from sqlalchemy import update

    from backend.db.models import utcnow

    token = await _login(client, tenant_a.owner)
    key = hashlib.sha256(token.encode()).hexdigest()
    stale = utcnow() - timedelta(minutes=5)
    async with db.sessionmaker() as s, s.begin():
        await s.execute(update(AuthSession).where(AuthSession.id == key).values(last_seen_at=stale))
    assert (await client.get("/api/auth/me")).status_code == 200
    async with db.sessionmaker() as s:
        seen = (await s.get(AuthSession, key)).last_seen_at
    assert seen > stale + timedelta(minutes=4)
    assert (await client.get("/api/auth/me")).status_code == 200
    async with db.sessionmaker() as s:
        assert (await s.get(AuthSession, key)).last_seen_at == seen   # within the minute: not written again
    async with db.sessionmaker() as s, s.begin():
        await s.execute(update(AuthSession).where(AuthSession.id == key).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert_problem(await client.get("/api/auth/me"), 401)


async def test_login_and_logout_are_audited(client, tenant_a):
    """auth.login and auth.logout land in the workspace's audit trail with the user as actor."""
    await _login(client, tenant_a.editor)
    assert (await client.post("/api/auth/logout")).status_code == 204
    trail = (await client.get("/api/audit/?action=auth.", headers=tenant_a.owner.headers)).json()
    mine = [e for e in trail if e["actor_id"] == tenant_a.editor.user_id]
    assert {"auth.login", "auth.logout"} <= {e["action"] for e in mine}


async def test_the_server_issued_csrf_cookie_is_the_double_submit_token(client, tenant_a):
    """A non-JSON cookie-authenticated request passes with X-CSRF-Token equal to the maily_csrf cookie sign-in set, and not with another value."""
    await _login(client, tenant_a.owner)
    issued = client.cookies["maily_csrf"]
    assert len(issued) >= 32
    r = await client.post("/api/auth/tokens", content='{"name": "x"}',
                          headers={"content-type": "text/plain", "x-csrf-token": "forged"})
    assert_problem(r, 403)
    r = await client.post("/api/auth/logout", content="x", headers={"content-type": "text/plain", "x-csrf-token": issued})
    assert r.status_code == 204, r.text


async def test_each_sign_in_sweeps_the_users_ended_sessions(client, db, tenant_a):
    """Rows of ended sessions do not pile up: the next sign-in of that user deletes them."""
    from sqlalchemy import func, select

    for _ in range(3):
        await _login(client, tenant_a.owner)
        assert (await client.post("/api/auth/logout")).status_code == 204
    await _login(client, tenant_a.owner)
    async with db.sessionmaker() as s:
        n = await s.scalar(select(func.count()).select_from(AuthSession)
                           .where(AuthSession.user_id == tenant_a.owner.user_id))
    assert n == 1
