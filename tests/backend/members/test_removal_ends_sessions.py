"""Removing a member ends their browser sessions in that workspace at once (issue 13); a session
of theirs in another workspace keeps working."""

from __future__ import annotations

from backend.auth import services as auth
from tests.backend.conftest import assert_problem


async def _login(client, member, tenant: str | None = None) -> str:
    """Signs in as a fresh browser (no cookies), in `tenant` if given; returns the session cookie."""
    client.cookies.clear()
    body = {"email": member.email, "password": member.password} | ({"tenant": tenant} if tenant else {})
    r = await client.post("/api/auth/login", json=body)
    assert r.status_code == 200, r.text
    return client.cookies["maily_session"]


def _use(client, token: str) -> None:
    client.cookies.clear()
    client.cookies.set("maily_session", token)


async def test_a_removed_members_session_in_that_workspace_is_refused_with_401(client, tenant_a):
    """After DELETE /api/members/{id} the removed person's session cookie in that workspace gets 401."""
    captured = await _login(client, tenant_a.editor)
    client.cookies.clear()
    r = await client.delete(f"/api/members/{tenant_a.editor.user_id}", headers=tenant_a.owner.headers)
    assert r.status_code == 204, r.text
    _use(client, captured)
    assert_problem(await client.get("/api/auth/me"), 401)


async def test_a_removed_members_session_in_another_workspace_stays(client, db, tenant_a, tenant_b):
    """A person removed from one workspace keeps the session they have open in another of theirs."""
    async with db.sessionmaker() as s, s.begin():
        await auth.add_member(s, tenant_b.id, tenant_a.editor.user_id, "viewer")
    elsewhere = await _login(client, tenant_a.editor, tenant_b.id)
    client.cookies.clear()
    r = await client.delete(f"/api/members/{tenant_a.editor.user_id}", headers=tenant_a.owner.headers)
    assert r.status_code == 204, r.text
    _use(client, elsewhere)
    r = await client.get("/api/auth/me")
    assert r.status_code == 200, r.text
    assert r.json()["tenant_id"] == tenant_b.id
