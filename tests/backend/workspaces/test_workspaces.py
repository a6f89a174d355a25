"""/api/workspaces and /api/auth/switch: list, create, rename (owner), current with the tier's AI
enhancements, switching; other workspaces' ids are 404, roles 403, tokens see their own workspace."""

from __future__ import annotations

import secrets

from sqlalchemy import update

from backend.db.models import Tenant
from tests.backend.conftest import assert_problem

AI_NODES = {"ai.generate_text", "ai.classify", "ai.summarize", "ai.extract_entities", "ai.personalize",
            "ai.optimize_timing"}


async def _login(client, member) -> None:
    client.cookies.clear()
    r = await client.post("/api/auth/login", json={"email": member.email, "password": member.password})
    assert r.status_code == 200, r.text


async def test_list_shows_each_workspace_with_the_role(client, tenant_a):
    """GET /api/workspaces lists the caller's workspaces with id, name, slug, tier and role."""
    r = await client.get("/api/workspaces", headers=tenant_a.viewer.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [{"id": tenant_a.id, "name": r.json()["items"][0]["name"], "slug": tenant_a.slug,
                                   "tier": "free", "role": "viewer"}]}
    assert_problem(await client.get("/api/workspaces"), 401)


async def test_create_then_switch_and_rename(client, tenant_a):
    """A created workspace has its creator as owner; switching makes it current for the session; its owner renames it."""
    await _login(client, tenant_a.viewer)
    slug = f"side-{secrets.token_hex(3)}"
    r = await client.post("/api/workspaces", json={"name": "Side project", "slug": slug})
    assert r.status_code == 201, r.text
    ws = r.json()
    assert ws["role"] == "owner" and ws["tier"] == "free" and ws["slug"] == slug
    assert len((await client.get("/api/workspaces")).json()["items"]) == 2
    assert (await client.get("/api/auth/me")).json()["tenant_id"] == tenant_a.id   # not switched by creating
    r = await client.post("/api/auth/switch", json={"workspace": slug})
    assert r.status_code == 200 and r.json()["tenant_id"] == ws["id"] and r.json()["role"] == "owner"
    assert (await client.get("/api/workspaces/current")).json()["id"] == ws["id"]
    r = await client.patch(f"/api/workspaces/{ws['id']}", json={"name": "Renamed"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    r = await client.post("/api/auth/switch", json={"workspace": tenant_a.id})
    assert r.json()["role"] == "viewer"
    audit = (await client.get("/api/audit/", headers={"X-Maily-Tenant": ws["id"]})).json()
    assert {"workspace.create", "workspace.rename", "workspace.switch"} <= {e["action"] for e in audit}


async def test_rename_role_matrix_and_cross_workspace_404(client, tenant_a, tenant_b):
    """Only an owner renames (editor and viewer 403); another workspace's id or a junk id is 404."""
    for member in (tenant_a.editor, tenant_a.viewer):
        assert_problem(await client.patch(f"/api/workspaces/{tenant_a.id}", json={"name": "x"}, headers=member.headers), 403)
    assert (await client.patch(f"/api/workspaces/{tenant_a.id}", json={"name": "A!"},
                               headers=tenant_a.owner.headers)).status_code == 200
    assert_problem(await client.patch(f"/api/workspaces/{tenant_b.id}", json={"name": "x"},
                                      headers=tenant_a.owner.headers), 404)
    assert_problem(await client.patch("/api/workspaces/%00", json={"name": "x"}, headers=tenant_a.owner.headers), 404)
    assert_problem(await client.patch(f"/api/workspaces/{tenant_a.id}", json={"name": ""},
                                      headers=tenant_a.owner.headers), 422)


async def test_switch_to_a_workspace_you_are_not_in_is_404(client, tenant_a, tenant_b):
    """Switching to another person's workspace (id or slug) is 404 and changes nothing; a token cannot switch."""
    await _login(client, tenant_a.editor)
    for ref in (tenant_b.id, tenant_b.slug, "nope"):
        assert_problem(await client.post("/api/auth/switch", json={"workspace": ref}), 404)
    assert (await client.get("/api/auth/me")).json()["tenant_id"] == tenant_a.id
    client.cookies.clear()
    assert_problem(await client.post("/api/auth/switch", json={"workspace": tenant_a.id},
                                     headers=tenant_a.editor.headers), 400)


async def test_slug_conflict_and_bad_slug(client, tenant_a, tenant_b):
    """A taken slug is 409 naming slug; a malformed one 422; without a slug one is made from the name."""
    h = tenant_a.owner.headers
    assert assert_problem(await client.post("/api/workspaces", json={"name": "x", "slug": tenant_b.slug}, headers=h),
                          409)["field"] == "slug"
    assert assert_problem(await client.post("/api/workspaces", json={"name": "x", "slug": "Bad Slug"}, headers=h),
                          422)["field"] == "slug"
    name = f"Made From {secrets.token_hex(3)}"
    r = await client.post("/api/workspaces", json={"name": name}, headers=h)
    assert r.status_code == 201 and r.json()["slug"] == name.lower().replace(" ", "-")


async def test_a_token_sees_only_its_own_workspace(client, tenant_a):
    """An API token lists only its workspace, and another workspace of the same user is 404 through it."""
    await _login(client, tenant_a.owner)
    other = (await client.post("/api/workspaces", json={"name": "Other"})).json()
    client.cookies.clear()
    items = (await client.get("/api/workspaces", headers=tenant_a.owner.headers)).json()["items"]
    assert [w["id"] for w in items] == [tenant_a.id]
    assert_problem(await client.patch(f"/api/workspaces/{other['id']}", json={"name": "x"},
                                      headers=tenant_a.owner.headers), 404)


async def test_current_lists_the_ai_enhancements_unlocked_by_the_tier(client, db, tenant_a):
    """GET /api/workspaces/current lists the six AI nodes; none unlocked on free, all on premium (docs/ai.md defaults)."""
    cur = (await client.get("/api/workspaces/current", headers=tenant_a.viewer.headers)).json()
    assert cur["id"] == tenant_a.id and cur["tier"] == "free" and cur["role"] == "viewer"
    assert {e["key"] for e in cur["enhancements"]} == AI_NODES
    assert not any(e["unlocked"] for e in cur["enhancements"])
    assert all(e["tiers"] == ["premium", "enterprise"] and e["name"] and e["description"] for e in cur["enhancements"])
    async with db.sessionmaker() as s, s.begin():
        await s.execute(update(Tenant).where(Tenant.id == tenant_a.id).values(tier="premium"))
    cur = (await client.get("/api/workspaces/current", headers=tenant_a.viewer.headers)).json()
    assert cur["tier"] == "premium" and all(e["unlocked"] for e in cur["enhancements"])
