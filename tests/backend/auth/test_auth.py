"""Login and sessions, API tokens (hashed at rest, revocable), tenant selection, roles."""

from __future__ import annotations

from sqlalchemy import select, text

from backend.auth.services import hash_password, verify_password
from backend.db.models import ApiToken
from tests.backend.conftest import assert_problem, make_tenant


def test_password_hash_is_salted_and_verifies():
    a, b = hash_password("s3cret"), hash_password("s3cret")
    assert a != b and "s3cret" not in a
    assert verify_password("s3cret", a) and not verify_password("wrong", a)
    assert not verify_password("s3cret", "garbage")


async def test_no_auth_is_401_problem(client):
    doc = assert_problem(await client.get("/api/auth/me"), 401)
    assert doc["instance"] == "/api/auth/me"


async def test_login_sets_session_cookie_then_me_and_logout(client, tenant_a):
    owner = tenant_a.owner
    r = await client.post("/api/auth/login", json={"email": owner.email, "password": owner.password})
    assert r.status_code == 200, r.text
    assert "maily_session" in r.headers.get("set-cookie", "")
    assert "httponly" in r.headers["set-cookie"].lower()
    me = (await client.get("/api/auth/me")).json()
    assert me["user_id"] == owner.user_id and me["tenant_id"] == tenant_a.id and me["role"] == "owner"
    assert r.json()["tenants"][0]["slug"] == tenant_a.slug
    assert (await client.post("/api/auth/logout")).status_code == 204
    assert_problem(await client.get("/api/auth/me"), 401)


async def test_wrong_password_and_unknown_email_are_401(client, tenant_a):
    r = await client.post("/api/auth/login", json={"email": tenant_a.owner.email, "password": "nope"})
    assert_problem(r, 401)
    r = await client.post("/api/auth/login", json={"email": "nobody@x.test", "password": "nope"})
    assert_problem(r, 401)


async def test_login_missing_field_is_422_naming_it(client):
    doc = assert_problem(await client.post("/api/auth/login", json={"email": "a@b.test"}), 422)
    assert doc["field"] == "password"


async def test_bearer_token_authenticates(client, tenant_a):
    r = await client.get("/api/auth/me", headers=tenant_a.editor.headers)
    assert r.status_code == 200
    assert r.json()["role"] == "editor"


async def test_tokens_are_hashed_at_rest(client, db, tenant_a):
    r = await client.post("/api/auth/tokens", json={"name": "ci"}, headers=tenant_a.owner.headers)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert token.startswith("mf_") and r.json()["prefix"] == token[:8]
    async with db.sessionmaker() as s:
        row = await s.scalar(select(ApiToken).where(ApiToken.id == r.json()["id"]))
        assert row.token_hash != token and len(row.token_hash) == 64
        # No column of any token row holds the plaintext.
        dump = (await s.execute(text("SELECT * FROM api_tokens"))).all()
    assert all(token not in str(v) for rec in dump for v in rec)
    listed = (await client.get("/api/auth/tokens", headers=tenant_a.owner.headers)).json()
    assert any(t["id"] == r.json()["id"] for t in listed) and all("token" not in t for t in listed)
    assert (await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_revoked_token_is_401(client, tenant_a):
    created = (await client.post("/api/auth/tokens", json={"name": "tmp"}, headers=tenant_a.owner.headers)).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
    r = await client.delete(f"/api/auth/tokens/{created['id']}", headers=tenant_a.owner.headers)
    assert r.status_code == 204
    assert_problem(await client.get("/api/auth/me", headers=headers), 401)


async def test_cannot_revoke_someone_elses_token(client, tenant_a, tenant_b):
    created = (await client.post("/api/auth/tokens", json={"name": "x"}, headers=tenant_a.owner.headers)).json()
    assert_problem(await client.delete(f"/api/auth/tokens/{created['id']}", headers=tenant_b.owner.headers), 404)
    assert_problem(await client.delete(f"/api/auth/tokens/{created['id']}", headers=tenant_a.editor.headers), 404)


async def test_unknown_token_is_401(client):
    assert_problem(await client.get("/api/auth/me", headers={"Authorization": "Bearer mf_nope"}), 401)


async def test_tenant_header_picks_membership_and_token_is_bound(client, db, tenant_a, tenant_b):
    from backend.auth import services

    # Make tenant A's owner a viewer of tenant B too.
    async with db.sessionmaker() as s, s.begin():
        await services.add_member(s, tenant_b.id, tenant_a.owner.user_id, "viewer")
    owner = tenant_a.owner
    await client.post("/api/auth/login", json={"email": owner.email, "password": owner.password})
    me = (await client.get("/api/auth/me")).json()
    assert me["tenant_id"] == tenant_a.id and len(me["tenants"]) == 2
    me_b = (await client.get("/api/auth/me", headers={"X-Maily-Tenant": tenant_b.slug})).json()
    assert me_b["tenant_id"] == tenant_b.id and me_b["role"] == "viewer"
    other = await make_tenant(db, "c")
    assert_problem(await client.get("/api/auth/me", headers={"X-Maily-Tenant": other.id}), 403)
    # A token answers for its own tenant only.
    r = await client.get("/api/auth/me", headers={**owner.headers, "X-Maily-Tenant": tenant_b.id})
    assert_problem(r, 403)


async def test_login_into_named_tenant(client, tenant_a, tenant_b):
    r = await client.post("/api/auth/login", json={"email": tenant_a.owner.email, "password": tenant_a.owner.password,
                                                    "tenant": tenant_b.slug})
    assert_problem(r, 403)
