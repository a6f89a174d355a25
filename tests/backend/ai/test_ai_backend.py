"""The AI gateway on the database: encrypted credentials, atomic
budgets under concurrency, the ledger, the database cache, and the /api/ai endpoints."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from backend.ai.models import AiBudget, AiUsage
from backend.credentials.models import Credential
from backend.ai.services import BudgetIn, put_budget
from backend.ai.store import DbCache, DbStore
from backend.crypto import DecryptError, decrypt, encrypt
from backend.db.models import Tenant
from nodes.ai.gateway import AIConfig, AIGateway, Task
from nodes.ai.pricing import PriceTable
from nodes.sdk import NodeContext
from tests.backend.conftest import assert_problem
from tests.nodes.ai.fake_providers import FakeProvider

SECRET = "test-secret-key"


@pytest.fixture(scope="module")
def fake():
    server = FakeProvider.start()
    yield server
    server.stop()


def test_encrypt_round_trip_is_bound_to_key_and_context():
    token = encrypt("sk-live-123", secret=SECRET, context=b"t1")
    assert "sk-live" not in token and token.startswith("v1:")
    assert decrypt(token, secret=SECRET, context=b"t1") == "sk-live-123"
    assert encrypt("x", secret=SECRET) != encrypt("x", secret=SECRET)   # random nonce
    for secret, ctx in ((SECRET, b"t2"), ("other", b"t1")):
        with pytest.raises(DecryptError):
            decrypt(token, secret=secret, context=ctx)


async def test_credentials_api_is_owner_only_write_only_and_encrypted_at_rest(client, tenant_a, db):
    key = "sk-proj-SUPERSECRET-abcd1234"
    r = await client.put("/api/ai/credentials/openai", json={"api_key": key}, headers=tenant_a.editor.headers)
    assert_problem(r, 403)
    r = await client.put("/api/ai/credentials/openai", json={"api_key": key}, headers=tenant_a.owner.headers)
    assert r.status_code == 200, r.text
    assert key not in r.text and r.json()["key_hint"] == "…1234"
    r = await client.get("/api/ai/credentials", headers=tenant_a.owner.headers)
    assert [c["provider"] for c in r.json()] == ["openai"] and key not in r.text
    assert_problem(await client.get("/api/ai/credentials", headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.put("/api/ai/credentials/nope", json={"api_key": "x"}, headers=tenant_a.owner.headers), 404)
    assert_problem(await client.put("/api/ai/credentials/compatible", json={"base_url": "file:///etc"},
                                    headers=tenant_a.owner.headers), 422)
    async with db.sessionmaker() as s:
        [row] = (await s.execute(sa.select(Credential).where(Credential.tenant_id == tenant_a.id,
                                                             Credential.type == "ai_provider"))).scalars()
        raw = (await s.execute(sa.text("SELECT secret, fields FROM credentials WHERE id = :i"), {"i": row.id})).one()
    assert "SUPERSECRET" not in str(raw) and key not in str(raw)   # in the vault, sealed
    store = DbStore(db, SECRET)
    assert (await store.credential(tenant_a.id, "openai")).api_key == key
    r = await client.delete("/api/ai/credentials/openai", headers=tenant_a.owner.headers)
    assert r.status_code == 204
    assert_problem(await client.delete("/api/ai/credentials/openai", headers=tenant_a.owner.headers), 404)


async def test_budget_api(client, tenant_a):
    r = await client.get("/api/ai/budget", headers=tenant_a.viewer.headers)
    assert r.status_code == 200 and r.json()["monthly_budget_usd"] is None
    assert_problem(await client.put("/api/ai/budget", json={"monthly_budget_usd": 5}, headers=tenant_a.editor.headers), 403)
    r = await client.put("/api/ai/budget", json={"monthly_budget_usd": 5, "monthly_call_quota": 100},
                         headers=tenant_a.owner.headers)
    assert r.status_code == 200 and r.json()["monthly_budget_usd"] == 5 and r.json()["monthly_call_quota"] == 100
    assert_problem(await client.put("/api/ai/budget", json={"monthly_budget_usd": -1}, headers=tenant_a.owner.headers), 422)
    r = await client.get("/api/ai/health", headers=tenant_a.viewer.headers)
    assert r.status_code == 200 and r.json()["tier"] == "free" and r.json()["chain"] == []


async def _premium(db, tenant_id: str) -> None:
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(Tenant).where(Tenant.id == tenant_id).values(tier="premium"))


def _gateway(db, fake, **kw) -> AIGateway:
    config = AIConfig(tier_models={"premium": [{"provider": "compatible", "model": "m", "base_url": fake.openai_url}]},
                      prices=PriceTable({"compatible:m": [1000.0, 1000.0]}), allowed_hosts=frozenset({"127.0.0.1"}),
                      retries=0, **kw)
    return AIGateway(config, DbStore(db, SECRET), DbCache(db))


def _task(prompt: str) -> Task:
    return Task(node_type="ai.generate_text", system="s", prompt=prompt, parse=lambda t: t, baseline=lambda: "base",
                max_tokens=10)


async def test_concurrent_calls_never_exceed_the_budget(db, tenant_a, fake):
    """40 calls at once against a budget that fits only some: the total never exceeds it."""
    await _premium(db, tenant_a.id)
    fake.script(answer="hello", delay=0.05)
    budget_usd = 0.5
    async with db.sessionmaker() as s, s.begin():
        await put_budget(s, tenant_a.id, BudgetIn(monthly_budget_usd=budget_usd))
    gw = _gateway(db, fake)
    try:
        outs = await asyncio.gather(*(gw.run(NodeContext(run_id=f"r{i}", node_id="n", tenant_id=tenant_a.id),
                                             _task(f"prompt number {i}")) for i in range(40)))
    finally:
        await gw.aclose()
    reasons = {o["ai"]["reason"] for o in outs}
    assert "budget" in reasons and "tier" in reasons, reasons
    async with db.sessionmaker() as s:
        spent = (await s.get(AiBudget, tenant_a.id)).spent_micros
        ledger = (await s.execute(sa.select(sa.func.sum(AiUsage.cost_micros)).where(
            AiUsage.tenant_id == tenant_a.id))).scalar()
    assert spent == ledger <= budget_usd * 1e6
    assert sum(o["ai"]["decision"] == "ai" for o in outs) == ledger // 30_000   # 25 in + 5 out at $1000/M


async def test_reserve_is_atomic_at_the_edge(db, tenant_a):
    async with db.sessionmaker() as s, s.begin():
        await put_budget(s, tenant_a.id, BudgetIn(monthly_budget_usd=0.001, monthly_call_quota=1000))  # 1000 micros
    store = DbStore(db, SECRET)
    results = await asyncio.gather(*(store.reserve(tenant_a.id, 100) for _ in range(30)))
    assert sum(results) == 10
    async with db.sessionmaker() as s:
        row = await s.get(AiBudget, tenant_a.id)
        assert (row.spent_micros, row.calls) == (1000, 10)


async def test_call_quota_and_cache_hits_on_the_database(db, tenant_a, fake, client):
    await _premium(db, tenant_a.id)
    fake.script(answer="cached answer")
    async with db.sessionmaker() as s, s.begin():
        await put_budget(s, tenant_a.id, BudgetIn(monthly_call_quota=1))
    gw = _gateway(db, fake)
    try:
        ctx = NodeContext(run_id="r", node_id="n", tenant_id=tenant_a.id, workflow_id="wf1")
        first = await gw.run(ctx, _task("same prompt"))
        again = await gw.run(ctx, _task("same prompt"))
        other = await gw.run(ctx, _task("another prompt"))
    finally:
        await gw.aclose()
    assert (first["ai"]["reason"], again["ai"]["reason"], other["ai"]["reason"]) == ("tier", "cache_hit", "budget")
    assert again["result"] == "cached answer" and again["ai"]["cost"] == 0 and again["ai"]["cached"]
    assert len(fake.requests) == 1
    r = await client.get("/api/ai/usage?group_by=workflow", headers=tenant_a.viewer.headers)
    assert r.json() == [{"workflow": "wf1", "calls": 2, "cache_hits": 1, "errors": 0, "tokens_in": 25, "tokens_out": 5,
                         "cost_usd": 0.03, "avg_latency_ms": r.json()[0]["avg_latency_ms"]}]
    for group in ("model", "day", "provider", "node_type"):
        r = await client.get(f"/api/ai/usage?group_by={group}", headers=tenant_a.viewer.headers)
        assert r.status_code == 200 and len(r.json()) == 1 and r.json()[0]["calls"] == 2, r.text


async def test_cli_ai_usage_reports_by_model(db, db_url, tenant_a, tmp_path):
    import json as _json
    import os
    import subprocess
    import sys

    await DbStore(db, SECRET).record({
        "tenant_id": tenant_a.id, "workflow_id": "wf", "run_id": "r", "node_id": "n", "node_type": "ai.classify",
        "provider": "openai", "model": "gpt-4o-mini", "tokens_in": 100, "tokens_out": 10, "cost_micros": 21,
        "cached": False, "latency_ms": 5.0, "ok": True, "error": None})
    env = {**os.environ, "MAILY_DATABASE_URL": db_url, "MAILY_DATA_DIR": str(tmp_path)}
    args = [sys.executable, "-m", "backend.cli", "ai", "usage", "--tenant", tenant_a.slug, "--by", "model", "--json"]
    proc = await asyncio.to_thread(subprocess.run, args, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = _json.loads(proc.stdout)
    assert rows[0]["model"] == "openai:gpt-4o-mini" and rows[0]["tokens_in"] == 100 and rows[0]["cost_usd"] == 0.000021


async def test_a_key_deleted_through_the_vault_api_is_forgotten_by_the_gateway_at_once(app, client, tenant_a):
    """Deleting an ai_provider credential with DELETE /api/credentials/{id} drops the gateway's cached key."""
    h = tenant_a.owner.headers
    assert (await client.put("/api/ai/credentials/openai", json={"api_key": "sk-cached-key-9876"}, headers=h)).status_code == 200
    store = app.state.ai.store
    assert (await store.credential(tenant_a.id, "openai")).api_key == "sk-cached-key-9876"   # now cached
    [cred] = [c for c in (await client.get("/api/credentials", headers=h)).json() if c["type"] == "ai_provider"]
    assert (await client.delete(f"/api/credentials/{cred['id']}", headers=h)).status_code == 204
    assert await store.credential(tenant_a.id, "openai") is None
