"""The gateway's storage on the database (nodes.ai.store.AIStore), the database cache, and
`build_gateway(settings)`, which node_services() puts into NodeServices.ai.

Budgets are enforced atomically: reserve() is ONE conditional UPDATE that adds the estimate
only `WHERE spent + estimate <= budget` (and calls + 1 <= quota), rolling the month over in
the same statement; concurrent calls therefore cannot overspend (the row lock makes the
second UPDATE re-check the WHERE).

Every tenant that calls a model has an ai_budgets row (no limits unless the owner set some):
the first reservation creates it, starting from what the ledger says the month used, so
afterwards "no row updated" always means "refused" and no SELECT is needed. finish() settles
and writes the ledger row atomically. The hot statements are SQLAlchemy Core, built once,
and each operation is one trip to the database (backend/ai/sql.py).
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from backend.ai import sql
from backend.metrics import observe_ai_usage
from backend.credentials import managed
from backend.credentials.envelope import Keyring
from backend.db.models import Tenant, utcnow
from backend.db.session import NODE_POOL_TIMEOUT_S, Database
from backend.errors import Conflict
from backend.settings import Settings
from nodes.ai.cache import RedisCache
from nodes.ai.gateway import DEFAULT_TIER_MODELS, AIConfig, AIGateway
from nodes.ai.pricing import PriceTable
from nodes.ai.store import Credential

_TTL = 30.0   # tier and credentials are read per call; a short in-process cache keeps that cheap


def period_of(now: Any = None) -> str:
    return (now or utcnow()).strftime("%Y-%m")


class DbStore:
    def __init__(self, db: Database, secret: str | Keyring, sql_: sql.Sql | None = None):
        self.db = db
        self.sql = sql_ or sql.Sql(db)
        self._keys = secret if isinstance(secret, Keyring) else Keyring(secret)
        self._tiers: dict[str, tuple[float, str]] = {}
        self._creds: dict[tuple[str, str], tuple[float, Credential | None]] = {}

    def forget(self, tenant_id: str) -> None:
        """Drop cached tier/credentials of a tenant (after the API changed them)."""
        self._tiers.pop(tenant_id, None)
        for key in [k for k in self._creds if k[0] == tenant_id]:
            self._creds.pop(key, None)

    async def tier(self, tenant_id: str) -> str:
        hit = self._tiers.get(tenant_id)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        async with self.db.sessionmaker() as s:
            tier = (await s.execute(sa.select(Tenant.tier).where(Tenant.id == tenant_id))).scalar() or "free"
        self._tiers[tenant_id] = (time.monotonic() + _TTL, tier)
        return tier

    async def credential(self, tenant_id: str, provider: str) -> Credential | None:
        hit = self._creds.get((tenant_id, provider))
        if hit and hit[0] > time.monotonic():
            return hit[1]
        cred = None
        async with self.db.sessionmaker() as s:
            try:
                row, values = await managed.current(s, self._keys, tenant_id, "ai_provider", provider=provider)
            except Conflict:   # no configured key opens it (the secret key changed): the owner enters it again
                row = None
            if row is not None:
                cred = Credential(values["api_key"], values.get("base_url") or None)
        self._creds[(tenant_id, provider)] = (time.monotonic() + _TTL, cred)
        return cred

    async def reserve(self, tenant_id: str, cost_micros: int) -> bool:
        return await self.sql.run(sql.reserve, tenant_id, cost_micros, utcnow(), durable=False)

    async def record(self, usage: dict[str, Any]) -> None:
        await self.sql.run(sql.record, _ledger_row(usage), durable=not usage.get("cached"))
        observe_ai_usage(usage)   # Prometheus counters (backend/metrics.py)

    async def finish(self, tenant_id: str, reserved_micros: int, actual_micros: int, called: bool,
                     usage: dict[str, Any] | None) -> None:
        """Settle the reservation and write the ledger row: both or neither, one trip."""
        await self.sql.run(sql.finish, tenant_id, reserved_micros, actual_micros, called,
                           None if usage is None else _ledger_row(usage), utcnow())
        if usage is not None:
            observe_ai_usage(usage)

    async def aclose(self) -> None:
        await self.sql.aclose()


def _ledger_row(usage: dict[str, Any]) -> dict[str, Any]:
    return {**usage, "error": (usage.get("error") or None) and usage["error"][:300], "created_at": utcnow()}


class DbCache:
    SWEEP_EVERY_S = 60.0   # expired entries are deleted a few at a time, at most this often

    def __init__(self, db: Database, sql_: sql.Sql | None = None):
        self.db = db
        self.sql = sql_ or sql.Sql(db)
        self._next_sweep = 0.0

    async def get(self, key: str) -> dict[str, Any] | None:
        return await self.sql.run(sql.cache_get, key, utcnow())

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        sweep = time.monotonic() >= self._next_sweep
        if sweep:
            self._next_sweep = time.monotonic() + self.SWEEP_EVERY_S
        await self.sql.run(sql.cache_set, key, value, ttl_s, utcnow(), sweep, durable=False)

    async def aclose(self) -> None:
        await self.sql.aclose()


def ai_config(settings: Settings) -> AIConfig:
    tiers = json.loads(settings.ai_tier_models) if settings.ai_tier_models.strip() else DEFAULT_TIER_MODELS
    prices = json.loads(settings.ai_prices) if settings.ai_prices.strip() else {}
    operator: dict[str, Credential] = {}
    if settings.ai_openai_api_key.get_secret_value():
        operator["openai"] = Credential(settings.ai_openai_api_key.get_secret_value())
    if settings.ai_anthropic_api_key.get_secret_value():
        operator["anthropic"] = Credential(settings.ai_anthropic_api_key.get_secret_value())
    if settings.ai_compatible_base_url:
        operator["compatible"] = Credential(settings.ai_compatible_api_key.get_secret_value(),
                                            settings.ai_compatible_base_url)
    return AIConfig(tier_models=tiers, prices=PriceTable(prices), timeout_s=settings.ai_timeout_s,
                    deadline_s=settings.ai_deadline_s, retries=settings.ai_retries, cache_ttl_s=settings.ai_cache_ttl_s,
                    breaker_threshold=settings.ai_breaker_threshold, breaker_reset_s=settings.ai_breaker_reset_s,
                    allowed_hosts=settings.ai_allowed_host_set, operator_credentials=operator)


class DbGateway(AIGateway):
    """The app's gateway: owns its database engine (and Redis client) and closes them."""

    def __init__(self, settings: Settings):
        self.db = Database(settings.resolved_database_url, pool_timeout=NODE_POOL_TIMEOUT_S)
        self.sql = sql.Sql(self.db)   # one pool of connections for the store and the cache
        cache = RedisCache(settings.redis_url) if settings.redis_url else DbCache(self.db, self.sql)
        super().__init__(ai_config(settings), DbStore(self.db, Keyring.from_settings(settings), self.sql), cache)

    async def aclose(self) -> None:
        await super().aclose()   # awaits the cache writes still in flight
        if hasattr(self.cache, "aclose"):
            await self.cache.aclose()
        await self.sql.aclose()
        await self.db.dispose()


def build_gateway(settings: Settings) -> DbGateway:
    return DbGateway(settings)
