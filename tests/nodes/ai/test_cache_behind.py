"""The cache entry is written after the node has its answer: against a real Redis, and
against a Redis that is not there (a logged miss, never a failed node)."""

from __future__ import annotations

import logging
import os
import secrets

from nodes.ai.cache import RedisCache, cache_key
from nodes.ai.gateway import AIConfig, AIGateway, Task
from nodes.ai.providers.base import ChatRequest
from nodes.ai.store import Credential, MemoryStore
from nodes.sdk import NodeContext

REDIS_URL = os.environ.get("MAILY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _gateway(fake, cache: RedisCache, tenant: str) -> AIGateway:
    store = MemoryStore(tiers={tenant: "premium"}, credentials={("*", "openai"): Credential("k", fake.openai_url)})
    config = AIConfig(tier_models={"premium": [{"provider": "openai", "model": "gpt-4o-mini"}]},
                      allowed_hosts=frozenset({"127.0.0.1"}), retries=0, cache_ttl_s=120)
    return AIGateway(config, store, cache)


def _task() -> Task:
    return Task("ai.summarize", "You summarize.", "the same text", parse=lambda t: t, baseline=lambda: "b")


class TestRedisWriteBehind:
    async def test_the_entry_lands_in_redis_with_its_ttl_and_serves_another_gateway(self, fake):
        fake.script(answer="from the model")
        tenant = f"t-{secrets.token_hex(4)}"
        ctx = NodeContext(run_id="r", node_id="n", tenant_id=tenant)
        cache = RedisCache(REDIS_URL)
        gw = _gateway(fake, cache, tenant)
        try:
            first = await gw.run(ctx, _task())
            await gw.flush()
            provider = await gw._provider(tenant, gw.config.tier_models["premium"][0])
            req = ChatRequest(model="gpt-4o-mini", system="You summarize.", prompt="the same text", max_tokens=512)
            key = cache_key(tenant, provider.key, req.cache_fields())
            assert 0 < await cache._redis.ttl(key) <= 120
            second = await _gateway(fake, cache, tenant).run(ctx, _task())
        finally:
            await gw.aclose()
            await cache._redis.delete(key)
            await cache.aclose()
        assert (first["ai"]["reason"], second["ai"]["reason"]) == ("tier", "cache_hit")
        assert second["result"] == "from the model" and len(fake.requests) == 1

    async def test_redis_down_is_a_logged_miss(self, fake, caplog):
        fake.script(answer="answered anyway")
        tenant = f"t-{secrets.token_hex(4)}"
        cache = RedisCache("redis://127.0.0.1:1/0")   # nothing listens on port 1
        gw = _gateway(fake, cache, tenant)
        with caplog.at_level(logging.WARNING, logger="maily.ai"):
            try:
                out = await gw.run(NodeContext(run_id="r", node_id="n", tenant_id=tenant), _task())
                await gw.flush()
            finally:
                await gw.aclose()
                await cache.aclose()
        assert (out["ai"]["reason"], out["result"]) == ("tier", "answered anyway")
        messages = " | ".join(r.getMessage() for r in caplog.records)
        assert "could not be read" in messages and "could not be written" in messages
