"""Response cache: keyed by tenant, provider, model, prompt and parameters, with a TTL.

Redis when MAILY_REDIS_URL is set; otherwise the database (backend/ai/store.py: DbCache).
MemoryCache serves tests and the store-less default. Keys are scoped per tenant so one
tenant cannot learn from timing or cost whether another sent the same prompt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any, Protocol

log = logging.getLogger("maily.ai")


def cache_key(tenant_id: str, provider_key: str, fields: dict[str, Any]) -> str:
    blob = json.dumps({"t": tenant_id, "p": provider_key, **fields}, sort_keys=True, separators=(",", ":"))
    return "maily:ai:" + hashlib.sha256(blob.encode()).hexdigest()


class Cache(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...
    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None: ...


class MemoryCache:
    def __init__(self, max_items: int = 10_000):
        self._items: dict[str, tuple[float, dict[str, Any]]] = {}
        self.max_items = max_items

    async def get(self, key: str) -> dict[str, Any] | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        if len(self._items) >= self.max_items:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (time.monotonic() + ttl_s, value)


class RedisCache:
    def __init__(self, url: str):
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    async def get(self, key: str) -> dict[str, Any] | None:
        try:
            raw = await self._redis.get(key)
        except Exception as exc:  # a cache outage must never fail a node: it is a miss
            log.warning("ai cache (redis) could not be read: %s", exc)
            return None
        return json.loads(raw) if raw else None

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        try:
            await self._redis.set(key, json.dumps(value), ex=max(1, ttl_s))
        except Exception as exc:
            log.warning("ai cache (redis) entry could not be written: %s", exc)

    async def aclose(self) -> None:
        await self._redis.aclose()
