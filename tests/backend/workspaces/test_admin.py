"""Plans: the instance admin lists every workspace and sets tiers (API and `maily workspace set-tier`); others get 403."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from backend.db.models import User
from backend.db.session import Database
from tests.backend.conftest import assert_problem
from tests.backend.test_cli import _cli_data_dirs, cli_data_dir, maily  # noqa: F401  (removes the data dir)


async def _make_admin(db, user_id: str) -> None:
    async with db.sessionmaker() as s, s.begin():
        await s.execute(update(User).where(User.id == user_id).values(is_admin=True))


async def test_admin_lists_workspaces_and_sets_a_tier(client, db, tenant_a, tenant_b):
    """An admin sees every workspace with its member count and moves one to premium, which unlocks its AI enhancements."""
    await _make_admin(db, tenant_a.viewer.user_id)   # admin of the instance, whatever their workspace role
    h = tenant_a.viewer.headers
    assert (await client.get("/api/auth/me", headers=h)).json()["is_admin"] is True
    items = {w["id"]: w for w in (await client.get("/api/admin/workspaces", headers=h)).json()["items"]}
    assert items[tenant_b.id]["members"] == 3 and items[tenant_b.id]["tier"] == "free"
    assert set(items[tenant_b.id]) == {"id", "name", "slug", "tier", "members", "created_at"}
    r = await client.patch(f"/api/admin/workspaces/{tenant_b.id}", json={"tier": "premium"}, headers=h)
    assert r.status_code == 200 and r.json()["tier"] == "premium", r.text
    cur = (await client.get("/api/workspaces/current", headers=tenant_b.viewer.headers)).json()
    assert cur["tier"] == "premium" and all(e["unlocked"] for e in cur["enhancements"])
    trail = (await client.get("/api/audit/?action=workspace.set_tier", headers=tenant_b.owner.headers)).json()
    assert trail and trail[0]["details"]["to"] == "premium" and trail[0]["actor_id"] == tenant_a.viewer.user_id


async def test_admin_refusals(client, db, tenant_a, tenant_b):
    """Non-admins (even owners) get 403, anonymous 401; an unknown workspace is 404 and an unknown tier 422."""
    for member in (tenant_a.owner, tenant_a.editor):
        assert_problem(await client.get("/api/admin/workspaces", headers=member.headers), 403)
        assert_problem(await client.patch(f"/api/admin/workspaces/{tenant_b.id}", json={"tier": "premium"},
                                          headers=member.headers), 403)
    assert_problem(await client.get("/api/admin/workspaces"), 401)
    await _make_admin(db, tenant_a.owner.user_id)
    h = tenant_a.owner.headers
    assert_problem(await client.patch("/api/admin/workspaces/" + "0" * 32, json={"tier": "premium"}, headers=h), 404)
    doc = assert_problem(await client.patch(f"/api/admin/workspaces/{tenant_b.id}", json={"tier": "gold"}, headers=h), 422)
    assert doc["field"] == "tier"


def test_cli_set_tier(tmp_path):
    """`maily workspace set-tier` sets the demo workspace's tier (seed-demo's user is admin); an unknown slug or tier exits non-zero with a message."""
    assert maily("migrate", tmp_path=tmp_path).returncode == 0
    assert maily("seed-demo", tmp_path=tmp_path).returncode == 0
    ok = maily("workspace", "set-tier", "demo", "enterprise", tmp_path=tmp_path)
    assert ok.returncode == 0 and "enterprise" in ok.stdout, ok.stderr
    assert asyncio.run(_rows(cli_data_dir(tmp_path))) == ("enterprise", True, 1)
    unknown = maily("workspace", "set-tier", "no-such-space", "premium", tmp_path=tmp_path)
    assert unknown.returncode == 1 and "no workspace no-such-space" in unknown.stderr
    bad = maily("workspace", "set-tier", "demo", "gold", tmp_path=tmp_path)
    assert bad.returncode != 0 and "unknown tier" in bad.stderr


async def _rows(data_dir) -> tuple:
    """The demo workspace's tier, its user's admin flag and the set-tier audit count, read from
    the embedded PostgreSQL the commands used (started again here, stopped after)."""
    from backend.db.embedded import embedded_database_url, stop_embedded

    db = Database(await asyncio.to_thread(embedded_database_url, data_dir))
    try:
        async with db.engine.connect() as conn:
            one = lambda sql: conn.exec_driver_sql(sql)  # noqa: E731
            return ((await one("SELECT tier FROM tenants WHERE slug = 'demo'")).scalar(),
                    (await one("SELECT is_admin FROM users WHERE email = 'demo@maily.local'")).scalar(),
                    (await one("SELECT count(*) FROM audit_events WHERE action = 'workspace.set_tier'")).scalar())
    finally:
        await db.dispose()
        await asyncio.to_thread(stop_embedded, data_dir)
