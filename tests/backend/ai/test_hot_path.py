"""The gateway's per-call path on the database: the cache entry is
written after the answer without losing it, settle and the ledger row land together, and a
tenant's budget row is created once, from the month's ledger."""

from __future__ import annotations

import asyncio
import logging

import pytest
import sqlalchemy as sa

from backend.ai.models import AiBudget, AiCacheEntry, AiUsage
from backend.ai.services import BudgetIn, get_budget, put_budget
from backend.ai.sql import Sql
from backend.ai.store import DbCache, DbStore
from backend.db.models import Tenant
from backend.db.session import Database
from nodes.ai.gateway import AIConfig, AIGateway, Task
from nodes.ai.pricing import PriceTable
from nodes.sdk import NodeContext
from tests.backend.conftest import create_pg_database, drop_pg_database
from tests.nodes.ai.fake_providers import FakeProvider

SECRET = "test-secret-key"
PRICE = 30_000   # micro-dollars of one answer: 25 tokens in + 5 out at $1000/M


@pytest.fixture(scope="module")
def fake():
    server = FakeProvider.start()
    yield server
    server.stop()


async def _premium(db: Database, tenant_id: str) -> None:
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(Tenant).where(Tenant.id == tenant_id).values(tier="premium"))


def _gateway(db: Database, fake: FakeProvider, cache=None, **kw) -> AIGateway:
    config = AIConfig(tier_models={"premium": [{"provider": "compatible", "model": "m", "base_url": fake.openai_url}]},
                      prices=PriceTable({"compatible:m": [1000.0, 1000.0]}), allowed_hosts=frozenset({"127.0.0.1"}),
                      retries=0, **kw)
    sq = Sql(db)
    return AIGateway(config, DbStore(db, SECRET, sq), cache or DbCache(db, sq))


async def _ready(db: Database, tenant_id: str, fake: FakeProvider, answer: str, **kw) -> tuple[AIGateway, NodeContext]:
    """A premium tenant, the provider answering `answer`, a gateway and a node context."""
    await _premium(db, tenant_id)
    fake.script(answer=answer)
    return _gateway(db, fake, **kw), NodeContext(run_id="r", node_id="n", tenant_id=tenant_id)


def _task(prompt: str) -> Task:
    return Task(node_type="ai.generate_text", system="s", prompt=prompt, parse=lambda t: t, baseline=lambda: "base",
                max_tokens=10)


async def _cache_rows(db: Database) -> int:
    async with db.sessionmaker() as s:
        return (await s.execute(sa.select(sa.func.count()).select_from(AiCacheEntry))).scalar_one()


class TestCacheWrittenAfterTheAnswer:
    async def test_the_next_call_is_a_hit_even_before_the_write_lands(self, db, tenant_a, fake):
        """The answer is cached for the next call at once, and the entry reaches the table."""
        gw, ctx = await _ready(db, tenant_a.id, fake, "first answer")
        try:
            first = await gw.run(ctx, _task("visible at once"))
            again = await gw.run(ctx, _task("visible at once"))
        finally:
            await gw.aclose()
        assert (first["ai"]["reason"], again["ai"]["reason"]) == ("tier", "cache_hit")
        assert again["result"] == "first answer" and len(fake.requests) == 1
        # A fresh gateway has nothing in memory: the hit must come from the table.
        other = _gateway(db, fake)
        try:
            third = await other.run(ctx, _task("visible at once"))
        finally:
            await other.aclose()
        assert third["ai"]["reason"] == "cache_hit" and len(fake.requests) == 1

    async def test_close_waits_for_every_write(self, db, tenant_a, fake):
        """Writes still in flight when the gateway closes are not lost."""
        before = await _cache_rows(db)
        gw, ctx = await _ready(db, tenant_a.id, fake, "an answer")
        await asyncio.gather(*(gw.run(ctx, _task(f"closing prompt {i}")) for i in range(8)))
        await gw.aclose()   # no flush() first
        assert not [t for t in asyncio.all_tasks() if t.get_name() == "ai cache write"]
        assert await _cache_rows(db) == before + 8

    async def test_the_cache_honours_its_ttl(self, db, tenant_a, fake):
        """An entry older than cache_ttl_s is a miss, in memory and in the table alike."""
        gw, ctx = await _ready(db, tenant_a.id, fake, "short-lived", cache_ttl_s=1)
        try:
            await gw.run(ctx, _task("expires soon"))
            assert (await gw.run(ctx, _task("expires soon")))["ai"]["reason"] == "cache_hit"
            await gw.flush()
            await asyncio.sleep(1.2)
            late = await gw.run(ctx, _task("expires soon"))
        finally:
            await gw.aclose()
        assert late["ai"]["reason"] == "tier" and len(fake.requests) == 2

    async def test_a_failing_cache_is_logged_and_never_fails_the_node(self, db, tenant_a, fake, tmp_path, caplog):
        """A cache database without its table: reads are misses, writes are logged, answers stand."""
        url = await create_pg_database()   # empty: no tables at all
        broken = Database(url)
        gw, ctx = await _ready(db, tenant_a.id, fake, "still answered", cache=DbCache(broken))
        with caplog.at_level(logging.ERROR, logger="maily.ai"):
            try:
                out = await gw.run(ctx, _task("nowhere to cache"))
                await gw.flush()
            finally:
                await gw.aclose()
                await gw.cache.aclose()
                await broken.dispose()
                await drop_pg_database(url)
        assert (out["ai"]["reason"], out["result"]) == ("tier", "still answered")
        messages = [r.getMessage() for r in caplog.records]
        assert "ai cache could not be read" in messages and "ai cache entry could not be written" in messages


class TestSettleAndLedger:
    async def test_every_call_and_hit_has_a_ledger_row_and_the_budget_matches_it(self, db, tenant_a, fake):
        """Calls are charged, hits are recorded at cost 0, and spent == the ledger's sum."""
        gw, ctx = await _ready(db, tenant_a.id, fake, "ok")
        try:
            for prompt in ("a", "b", "a", "c", "b"):
                await gw.run(ctx, _task(prompt))
        finally:
            await gw.aclose()
        async with db.sessionmaker() as s:
            rows = (await s.execute(sa.select(AiUsage.cached, AiUsage.cost_micros)
                                    .where(AiUsage.tenant_id == tenant_a.id).order_by(AiUsage.id))).all()
            row = await s.get(AiBudget, tenant_a.id)
        assert [tuple(r) for r in rows] == [(False, PRICE), (False, PRICE), (True, 0), (False, PRICE), (True, 0)]
        assert (row.spent_micros, row.calls) == (3 * PRICE, 3)

    async def test_settle_is_undone_when_the_ledger_row_fails(self, db, tenant_a):
        """Both or neither: a ledger row that cannot be written leaves the reservation held."""
        store = DbStore(db, SECRET)
        assert await store.reserve(tenant_a.id, 500)
        bad = {"tenant_id": None, "provider": "compatible", "model": "m", "cost_micros": 10}   # tenant_id NOT NULL
        with pytest.raises(sa.exc.IntegrityError):
            await store.finish(tenant_a.id, 500, 10, True, bad)
        async with db.sessionmaker() as s:
            assert (await s.get(AiBudget, tenant_a.id)).spent_micros == 500
        good = {**bad, "tenant_id": tenant_a.id}
        await store.finish(tenant_a.id, 500, 10, True, good)
        async with db.sessionmaker() as s:
            assert (await s.get(AiBudget, tenant_a.id)).spent_micros == 10
            ledger = (await s.execute(sa.select(AiUsage.cost_micros).where(AiUsage.tenant_id == tenant_a.id))).all()
        assert [r.cost_micros for r in ledger] == [10]
        await store.aclose()


class TestBudgetRow:
    async def test_first_reservation_creates_a_row_from_the_months_ledger(self, db, tenant_a):
        """No limits are invented, and what the month already spent is carried over."""
        store = DbStore(db, SECRET)
        await store.record({"tenant_id": tenant_a.id, "provider": "openai", "model": "x", "cost_micros": 700,
                            "node_type": "ai.classify"})
        assert await store.reserve(tenant_a.id, 50)
        async with db.sessionmaker() as s:
            row = await s.get(AiBudget, tenant_a.id)
            report = await get_budget(s, tenant_a.id)
        assert (row.monthly_budget_micros, row.monthly_call_quota) == (None, None)
        assert (row.spent_micros, row.calls) == (750, 2)
        assert report.monthly_budget_usd is None and report.monthly_call_quota is None
        await store.aclose()

    async def test_a_limit_set_after_the_row_exists_is_enforced(self, db, tenant_a):
        store = DbStore(db, SECRET)
        assert await store.reserve(tenant_a.id, 400)
        async with db.sessionmaker() as s, s.begin():
            await put_budget(s, tenant_a.id, BudgetIn(monthly_budget_usd=0.001))   # 1000 micros
        assert await store.reserve(tenant_a.id, 600)
        assert not await store.reserve(tenant_a.id, 1)
        await store.aclose()

    async def test_a_deleted_tenant_gets_no_row_and_no_call(self, db):
        store = DbStore(db, SECRET)
        assert not await store.reserve("no-such-tenant", 1)
        async with db.sessionmaker() as s:
            assert await s.get(AiBudget, "no-such-tenant") is None
        await store.aclose()


async def test_non_durable_units_skip_the_flush_and_durable_ones_wait(db):
    """Durable units (settles, ledger rows of real calls) wait for the flush at commit; cache
    entries, reservations and hit rows do not: synchronous_commit is off only on the second pool."""
    sq = Sql(db)
    try:
        setting = lambda conn: conn.execute(sa.text("SELECT current_setting('synchronous_commit')")).scalar()  # noqa: E731
        assert await sq.run(setting) == "on"
        assert await sq.run(setting, durable=False) == "off"
        assert await sq.run(setting) == "on"   # the durable pool's sessions are untouched
    finally:
        await sq.aclose()
