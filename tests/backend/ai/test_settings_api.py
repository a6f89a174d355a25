"""The reads the AI settings screen needs: the tier's model chain with whose
key each entry would use (GET /api/ai/models), and usage by day and model (group_by=day_model)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from backend.ai.models import AiUsage
from backend.ai.store import DbStore
from backend.app import create_app
from backend.db.models import Tenant
from backend.settings import Settings
from nodes.ai.gateway import DEFAULT_TIER_MODELS
from tests.backend.conftest import assert_problem

SECRET = "test-secret-key"


async def _tier(db, tenant_id: str, tier: str) -> None:
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(Tenant).where(Tenant.id == tenant_id).values(tier=tier))


async def _usage(db, tenant_id: str, model: str, cost_micros: int, day: str, cached: bool = False) -> None:
    """One ledger row through the gateway's store, dated `day` (the store stamps now)."""
    store = DbStore(db, SECRET)
    await store.record({"tenant_id": tenant_id, "workflow_id": "wf", "run_id": "r", "node_id": "n",
                        "node_type": "ai.summarize", "provider": "openai", "model": model, "tokens_in": 10,
                        "tokens_out": 2, "cost_micros": cost_micros, "cached": cached, "latency_ms": 3.0, "ok": True,
                        "error": None})
    await store.aclose()
    async with db.sessionmaker() as s, s.begin():
        newest = sa.select(sa.func.max(AiUsage.id)).where(AiUsage.tenant_id == tenant_id, AiUsage.model == model,
                                                          AiUsage.cost_micros == cost_micros).scalar_subquery()
        await s.execute(sa.update(AiUsage).where(AiUsage.id == newest).values(
            created_at=datetime.fromisoformat(day + "T12:00:00").replace(tzinfo=timezone.utc)))


class TestModelChains:
    async def test_a_free_workspace_has_an_empty_chain_and_sees_every_tier(self, client, tenant_a):
        """A free workspace's chain is empty (the baseline answers) and every member reads every tier's chain."""
        r = await client.get("/api/ai/models", headers=tenant_a.viewer.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["tier"] == "free" and body["chain"] == []
        assert {t: [(e["provider"], e["model"]) for e in chain] for t, chain in body["tiers"].items()} == \
            {t: [(e["provider"], e["model"]) for e in chain] for t, chain in DEFAULT_TIER_MODELS.items()}

    async def test_the_chain_follows_the_tier_and_says_whose_key_each_entry_uses(self, client, tenant_a, db):
        """A premium workspace with its own OpenAI key: the chain is premium's, OpenAI uses the workspace's key and
        Anthropic (no key anywhere) is missing."""
        await _tier(db, tenant_a.id, "premium")
        r = await client.put("/api/ai/credentials/openai", json={"api_key": "sk-test-0123456789abcd"},
                             headers=tenant_a.owner.headers)
        assert r.status_code == 200, r.text
        r = await client.get("/api/ai/models", headers=tenant_a.editor.headers)
        assert r.status_code == 200, r.text
        assert r.json()["tier"] == "premium"
        assert [(e["provider"], e["model"], e["key"]) for e in r.json()["chain"]] == [
            ("openai", "gpt-4o-mini", "workspace"), ("anthropic", "claude-3-5-haiku-latest", "missing")]
        assert "0123456789abcd" not in r.text

    async def test_another_workspaces_key_does_not_count(self, client, tenant_a, tenant_b, db):
        """A key set in another workspace leaves this workspace's entries without a key."""
        await _tier(db, tenant_a.id, "premium")
        r = await client.put("/api/ai/credentials/openai", json={"api_key": "sk-other-0123456789abcd"},
                             headers=tenant_b.owner.headers)
        assert r.status_code == 200, r.text
        r = await client.get("/api/ai/models", headers=tenant_a.owner.headers)
        assert [e["key"] for e in r.json()["chain"]] == ["missing", "missing"]

    async def test_operator_keys_and_configured_tiers_are_reported(self, db_url, tmp_path, tenant_a, db):
        """MAILY_AI_TIER_MODELS replaces the default chains and an operator key shows as the operator's."""
        await _tier(db, tenant_a.id, "enterprise")
        settings = Settings(database_url=db_url, data_dir=tmp_path, secret_key=SECRET, prefect_at_start=False,
                            ai_tier_models='{"enterprise": [{"provider": "anthropic", "model": "claude-x"}, '
                                           '{"provider": "nope", "model": "m"}]}',
                            ai_anthropic_api_key="sk-ant-operator-secret")
        async with AsyncTestClient(app=create_app(settings)) as c:
            r = await c.get("/api/ai/models", headers=tenant_a.owner.headers)
        assert r.status_code == 200, r.text
        assert r.json()["chain"] == [{"provider": "anthropic", "model": "claude-x", "base_url": None, "key": "operator"}]
        assert list(r.json()["tiers"]) == ["enterprise"] and "operator-secret" not in r.text

    async def test_signed_out_is_refused(self, client):
        """Without a session or token the chain is not readable."""
        assert_problem(await client.get("/api/ai/models"), 401)


class TestUsageByDayAndModel:
    async def test_rows_are_grouped_by_day_then_model_and_stay_in_the_workspace(self, client, tenant_a, tenant_b, db):
        """group_by=day_model gives one row per day and model, ordered, with summed cost; another workspace's
        ledger is not in it."""
        await _usage(db, tenant_a.id, "gpt-4o", 1000, "2026-03-01")
        await _usage(db, tenant_a.id, "gpt-4o", 500, "2026-03-01", cached=True)
        await _usage(db, tenant_a.id, "gpt-4o-mini", 200, "2026-03-01")
        await _usage(db, tenant_a.id, "gpt-4o", 300, "2026-03-02")
        await _usage(db, tenant_b.id, "gpt-4o", 9999, "2026-03-01")
        r = await client.get("/api/ai/usage?group_by=day_model", headers=tenant_a.viewer.headers)
        assert r.status_code == 200, r.text
        assert [(x["day"], x["model"], x["calls"], x["cache_hits"], x["cost_usd"]) for x in r.json()] == [
            ("2026-03-01", "openai:gpt-4o", 2, 1, 0.0015), ("2026-03-01", "openai:gpt-4o-mini", 1, 0, 0.0002),
            ("2026-03-02", "openai:gpt-4o", 1, 0, 0.0003)]

    async def test_since_bounds_the_report(self, client, tenant_a, db):
        """since= keeps only the days from that moment on."""
        await _usage(db, tenant_a.id, "gpt-4o", 100, "2026-04-01")
        await _usage(db, tenant_a.id, "gpt-4o", 100, "2026-04-05")
        r = await client.get("/api/ai/usage?group_by=day_model&since=2026-04-03T00:00:00Z", headers=tenant_a.owner.headers)
        assert r.status_code == 200, r.text
        assert [x["day"] for x in r.json()] == ["2026-04-05"]

    @pytest.mark.parametrize("group_by", ["week", "day,model"])
    async def test_an_unknown_grouping_is_refused_naming_the_parameter(self, client, tenant_a, group_by):
        """A grouping the report does not know is a problem document naming group_by (as every bad query
        parameter is, 400), not a 500."""
        doc = assert_problem(await client.get(f"/api/ai/usage?group_by={group_by}", headers=tenant_a.owner.headers), 400)
        assert doc["field"] == "group_by"
