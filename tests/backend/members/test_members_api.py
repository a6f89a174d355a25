"""/api/members: list, change a role, remove; the role matrix, other workspaces' ids, the last owner,
what a removal ends (sessions, API tokens) and the audit trail."""

from __future__ import annotations

import pytest

from backend.auth import services as auth
from tests.backend.conftest import assert_problem


async def _login(client, member) -> None:
    client.cookies.clear()
    r = await client.post("/api/auth/login", json={"email": member.email, "password": member.password})
    assert r.status_code == 200, r.text


async def test_every_member_lists_the_members_with_role_and_last_activity(client, tenant_a):
    """GET /api/members answers items of user_id, email, name, role, last_active_at to owner, editor and viewer alike."""
    for member in (tenant_a.owner, tenant_a.editor, tenant_a.viewer):
        r = await client.get("/api/members", headers=member.headers)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [(i["email"], i["role"]) for i in items] == [(m.email, m.role) for m in
                                                             (tenant_a.owner, tenant_a.editor, tenant_a.viewer)]
        assert all(set(i) == {"user_id", "email", "name", "role", "last_active_at"} for i in items)
    # Each token has been used just now: its user was active.
    assert all(i["last_active_at"] for i in (await client.get("/api/members", headers=tenant_a.owner.headers)).json()["items"])
    assert_problem(await client.get("/api/members"), 401)


async def test_members_of_another_workspace_are_not_listed(client, tenant_a, tenant_b):
    """Each workspace lists only its own members."""
    ids = {i["user_id"] for i in (await client.get("/api/members", headers=tenant_b.viewer.headers)).json()["items"]}
    assert ids == {tenant_b.owner.user_id, tenant_b.editor.user_id, tenant_b.viewer.user_id}


async def test_owner_changes_a_role_and_it_takes_effect_at_once(client, tenant_a):
    """PATCH /api/members/{user_id} {role} answers 200 with the member; the member's next request has the new role."""
    r = await client.patch(f"/api/members/{tenant_a.editor.user_id}", json={"role": "viewer"},
                           headers=tenant_a.owner.headers)
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "viewer" and r.json()["user_id"] == tenant_a.editor.user_id
    me = (await client.get("/api/auth/me", headers=tenant_a.editor.headers)).json()
    assert me["role"] == "viewer"
    assert_problem(await client.post("/api/workflows", json={"name": "x"}, headers=tenant_a.editor.headers), 403)
    r = await client.patch(f"/api/members/{tenant_a.viewer.user_id}", json={"role": "owner"},
                           headers=tenant_a.owner.headers)
    assert r.status_code == 200 and r.json()["role"] == "owner"
    audit = (await client.get("/api/audit/?action=member.role_change", headers=tenant_a.owner.headers)).json()
    assert {(e["target_id"], e["details"]["to"]) for e in audit} == {(tenant_a.editor.user_id, "viewer"),
                                                                     (tenant_a.viewer.user_id, "owner")}


async def test_bad_role_is_422_naming_role(client, tenant_a):
    """A role that is not owner, editor or viewer is 422 naming role; a malformed body 400."""
    url = f"/api/members/{tenant_a.editor.user_id}"
    assert assert_problem(await client.patch(url, json={"role": "admin"}, headers=tenant_a.owner.headers), 422)["field"] == "role"
    assert assert_problem(await client.patch(url, json={}, headers=tenant_a.owner.headers), 422)["field"] == "role"
    r = await client.patch(url, content=b"{not json", headers={**tenant_a.owner.headers, "content-type": "application/json"})
    assert_problem(r, 400)


@pytest.mark.parametrize("role", ["editor", "viewer"])
async def test_role_matrix_only_owners_manage_members(client, tenant_a, role):
    """An editor or a viewer gets 403 problem+json on every member-managing path and changes nothing."""
    m = getattr(tenant_a, role)
    h = m.headers
    target = tenant_a.owner.user_id
    assert_problem(await client.patch(f"/api/members/{target}", json={"role": "viewer"}, headers=h), 403)
    assert_problem(await client.delete(f"/api/members/{target}", headers=h), 403)
    assert_problem(await client.patch(f"/api/members/{m.user_id}", json={"role": "owner"}, headers=h), 403)
    assert_problem(await client.get("/api/members/invitations", headers=h), 403)
    assert_problem(await client.post("/api/members/invitations", json={"email": "x@example.com", "role": "viewer"},
                                     headers=h), 403)
    assert_problem(await client.post("/api/members/invitations/0123456789abcdef0123456789abcdef/resend", headers=h), 403)
    assert_problem(await client.delete("/api/members/invitations/0123456789abcdef0123456789abcdef", headers=h), 403)
    roles = {i["user_id"]: i["role"] for i in (await client.get("/api/members", headers=h)).json()["items"]}
    assert roles[target] == "owner" and roles[m.user_id] == role


async def test_another_workspaces_member_is_404(client, tenant_a, tenant_b):
    """Changing or removing a member of another workspace, or a junk id, is 404 and changes nothing there."""
    h = tenant_a.owner.headers
    for uid in (tenant_b.editor.user_id, tenant_b.owner.user_id, "nope", "%00"):
        assert_problem(await client.patch(f"/api/members/{uid}", json={"role": "viewer"}, headers=h), 404)
        assert_problem(await client.delete(f"/api/members/{uid}", headers=h), 404)
    items = (await client.get("/api/members", headers=tenant_b.owner.headers)).json()["items"]
    assert {i["user_id"]: i["role"] for i in items}[tenant_b.editor.user_id] == "editor"


async def test_the_last_owner_can_be_neither_demoted_nor_removed(client, tenant_a):
    """The only owner demoting or removing themselves is 409; with a second owner both work."""
    h, me = tenant_a.owner.headers, tenant_a.owner.user_id
    assert "owner" in assert_problem(await client.patch(f"/api/members/{me}", json={"role": "editor"}, headers=h),
                                     409)["detail"]
    assert_problem(await client.delete(f"/api/members/{me}", headers=h), 409)
    r = await client.patch(f"/api/members/{me}", json={"role": "owner"}, headers=h)   # no change: fine
    assert r.status_code == 200 and r.json()["role"] == "owner"
    assert (await client.patch(f"/api/members/{tenant_a.editor.user_id}", json={"role": "owner"},
                               headers=h)).status_code == 200
    # With two owners, one may step down; then the other is the last one.
    r = await client.patch(f"/api/members/{me}", json={"role": "editor"}, headers=h)
    assert r.status_code == 200 and r.json()["role"] == "editor"
    h2 = tenant_a.editor.headers
    assert_problem(await client.delete(f"/api/members/{tenant_a.editor.user_id}", headers=h2), 409)
    assert (await client.delete(f"/api/members/{me}", headers=h2)).status_code == 204


async def test_removal_ends_the_members_token_and_session_for_that_workspace(client, db, tenant_a, tenant_b):
    """DELETE /api/members/{id} is 204; the removed person's token is 401 and their session 403 at once, audited."""
    victim = tenant_a.editor
    await _login(client, victim)
    cookie = client.cookies["maily_session"]
    assert (await client.get("/api/workflows")).status_code == 200
    client.cookies.clear()
    r = await client.delete(f"/api/members/{victim.user_id}", headers=tenant_a.owner.headers)
    assert r.status_code == 204, r.text
    assert_problem(await client.get("/api/workflows", headers=victim.headers), 401)
    client.cookies.set("maily_session", cookie)
    assert_problem(await client.get("/api/workflows"), 401)   # the session of that workspace is ended
    client.cookies.clear()
    ids = {i["user_id"] for i in (await client.get("/api/members", headers=tenant_a.owner.headers)).json()["items"]}
    assert victim.user_id not in ids
    assert_problem(await client.delete(f"/api/members/{victim.user_id}", headers=tenant_a.owner.headers), 404)
    audit = (await client.get("/api/audit/?action=member.remove", headers=tenant_a.owner.headers)).json()
    assert [(e["target_id"], e["details"]) for e in audit] == [(victim.user_id, {"role": "editor", "tokens_revoked": 1})]


async def test_a_removed_member_keeps_their_other_workspaces(client, db, tenant_a, tenant_b):
    """Someone removed from one workspace still works in another: its token at once, and signing in again
    (their session of the workspace they left is ended) lands them there."""
    victim = tenant_a.viewer
    async with db.sessionmaker() as s, s.begin():
        await auth.add_member(s, tenant_b.id, victim.user_id, "editor")
        _, b_token = await auth.create_api_token(s, tenant_b.id, victim.user_id, "b")
    await _login(client, victim)
    assert (await client.get("/api/auth/me")).json()["tenant_id"] == tenant_a.id
    assert (await client.delete(f"/api/members/{victim.user_id}", headers=tenant_a.owner.headers)).status_code == 204
    assert_problem(await client.get("/api/auth/me"), 401)
    await _login(client, victim)
    me = await client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["tenant_id"] == tenant_b.id and me.json()["role"] == "editor"
    assert_problem(await client.get("/api/workflows", headers={"X-Maily-Tenant": tenant_a.id}), 403)
    assert (await client.get("/api/workflows", headers={"Authorization": f"Bearer {b_token}"})).status_code == 200


async def test_last_activity_counts_browser_sessions(client, db, tenant_a):
    """A member seen only through a browser session (no token use, no audited action) shows its last_seen_at."""
    import secrets
    from datetime import timedelta

    from backend.auth import services as auth_services
    from backend.auth.models import AuthSession
    from backend.db.models import utcnow

    async with db.sessionmaker() as s, s.begin():
        user = await auth_services.create_user(s, f"quiet-{secrets.token_hex(4)}@example.com", "quiet-password-1")
        await auth_services.add_member(s, tenant_a.id, user.id, "viewer")
    items = (await client.get("/api/members", headers=tenant_a.owner.headers)).json()["items"]
    assert next(i for i in items if i["user_id"] == user.id)["last_active_at"] is None
    seen = utcnow() - timedelta(hours=3)
    async with db.sessionmaker() as s, s.begin():
        s.add(AuthSession(id=secrets.token_hex(32), user_id=user.id, tenant_id=tenant_a.id, last_seen_at=seen,
                          expires_at=utcnow() + timedelta(days=1)))
    items = (await client.get("/api/members", headers=tenant_a.owner.headers)).json()["items"]
    last = next(i for i in items if i["user_id"] == user.id)["last_active_at"]
    assert last is not None and last.startswith(seen.strftime("%Y-%m-%dT%H:%M"))


async def test_cookie_requests_from_another_origin_are_refused(client, tenant_a):
    """Signed in by cookie, removing a member or inviting from a foreign Origin is 403 (CSRF) and changes nothing."""
    await _login(client, tenant_a.owner)
    evil = {"Origin": "https://evil.example"}
    assert_problem(await client.delete(f"/api/members/{tenant_a.editor.user_id}", headers=evil), 403)
    assert_problem(await client.post("/api/members/invitations", json={"email": "x@example.com", "role": "owner"},
                                     headers=evil), 403)
    assert tenant_a.editor.email in {i["email"] for i in (await client.get("/api/members")).json()["items"]}
    assert (await client.get("/api/members/invitations")).json()["items"] == []
