"""Sign-up per MAILY_SIGNUP: the first visitor of an empty instance becomes owner and admin;
then invite (default) and closed refuse, open allows; weak passwords, bad and taken emails."""

from __future__ import annotations

import secrets
from typing import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.db.migrate import upgrade_async
from tests.backend.conftest import assert_problem, drop_pg_database, fresh_database


def _signup(tag: str = "", **over) -> dict[str, str]:
    tag = tag or secrets.token_hex(4)
    return {"email": f"ada-{tag}@example.com", "password": "correct horse battery", "name": "Ada",
            "workspace": f"Analytical {tag}", **over}


@pytest.fixture
async def empty_client(db_url, settings, tmp_path) -> AsyncIterator[AsyncTestClient]:
    """An app on a brand-new migrated database: no user at all."""
    url = await fresh_database("postgresql", tmp_path)
    await upgrade_async(url)
    try:
        async with AsyncTestClient(app=create_app(settings.model_copy(update={"database_url": url}))) as c:
            yield c
    finally:
        await drop_pg_database(url)


def _client_with(settings, mode: str) -> AsyncTestClient:
    return AsyncTestClient(app=create_app(settings.model_copy(update={"signup": mode})))


async def test_first_visitor_becomes_owner_and_admin_then_invite_only(empty_client):
    """On an empty instance the first sign-up succeeds even in invite mode (owner, admin); the next one is 403."""
    cfg = (await empty_client.get("/api/auth/config")).json()
    assert cfg == {"signup": "invite", "first_user": True}
    r = await empty_client.post("/api/auth/signup", json=_signup("first"))
    assert r.status_code == 201, r.text
    me = r.json()
    assert me["is_admin"] is True and me["role"] == "owner" and me["tenants"][0]["slug"] == "analytical-first"
    assert "maily_session" in empty_client.cookies
    assert (await empty_client.get("/api/auth/me")).json()["user_id"] == me["user_id"]
    audit = (await empty_client.get("/api/audit/")).json()
    assert {"auth.signup", "workspace.create"} <= {e["action"] for e in audit}
    empty_client.cookies.clear()
    assert (await empty_client.get("/api/auth/config")).json()["first_user"] is False
    doc = assert_problem(await empty_client.post("/api/auth/signup", json=_signup()), 403)
    assert "invitation" in doc["detail"]


async def test_open_signup_creates_a_workspace_with_a_unique_slug(settings, tenant_a):
    """In open mode anyone signs up as owner of a new workspace (not admin); equal workspace names get distinct slugs."""
    tag = secrets.token_hex(4)
    async with _client_with(settings, "open") as c:
        one = await c.post("/api/auth/signup", json=_signup(email=f"one-{tag}@example.com", workspace=f"Acme {tag}"))
        c.cookies.clear()
        two = await c.post("/api/auth/signup", json=_signup(email=f"two-{tag}@example.com", workspace=f"Acme {tag}"))
    assert one.status_code == two.status_code == 201, (one.text, two.text)
    assert one.json()["is_admin"] is False and one.json()["role"] == "owner"
    slugs = {one.json()["tenants"][0]["slug"], two.json()["tenants"][0]["slug"]}
    assert slugs == {f"acme-{tag}", f"acme-{tag}-2"}


async def test_signup_refusals(settings, tenant_a):
    """Weak passwords are 422 naming password, a malformed email 422 naming email, an existing email 409, closed mode 403."""
    async with _client_with(settings, "open") as c:
        for weak in ("short", "password123", "QWERTYUIOP"):
            doc = assert_problem(await c.post("/api/auth/signup", json=_signup(password=weak)), 422)
            assert doc["field"] == "password"
        assert assert_problem(await c.post("/api/auth/signup", json=_signup(email="not-an-email")), 422)["field"] == "email"
        doc = assert_problem(await c.post("/api/auth/signup", json=_signup(workspace="")), 422)
        assert doc["field"] == "workspace"
        body = _signup()
        assert (await c.post("/api/auth/signup", json=body)).status_code == 201
        c.cookies.clear()
        assert_problem(await c.post("/api/auth/signup", json={**body, "email": body["email"].upper()}), 409)
    async with _client_with(settings, "closed") as c:
        assert (await c.get("/api/auth/config")).json()["signup"] == "closed"
        assert "closed" in assert_problem(await c.post("/api/auth/signup", json=_signup()), 403)["detail"]

