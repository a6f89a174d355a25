"""The gateway's storage on the database (nodes.ai.store.AIStore), the database cache, and
`build_gateway(settings)`, which node_services() puts into Services.extra["ai"].

Budgets are enforced atomically: reserve() is ONE conditional UPDATE that adds the estimate
only `WHERE spent + estimate <= budget` (and calls + 1 <= quota), rolling the month over in
the same statement; concurrent calls therefore cannot overspend on SQLite (one writer at a
time) or PostgreSQL (the row lock makes the second UPDATE re-check the WHERE).
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from backend.ai.models import AiBudget, AiCacheEntry, AiCredential, AiUsage
from backend.metrics import observe_ai_usage
from backend.crypto import DecryptError, decrypt
from backend.db.models import Tenant, utcnow
from backend.db.session import Database
from backend.settings import Settings
from nodes.ai.gateway import DEFAULT_TIER_MODELS, AIConfig, AIGateway
from nodes.ai.pricing import PriceTable
from nodes.ai.store import Credential

_TTL = 30.0   # tier and credentials are read per call; a short in-process cache keeps that cheap


def period_of(now: Any = None) -> str:
    return (now or utcnow()).strftime("%Y-%m")


class DbStore:
    def __init__(self, db: Database, secret: str):
        self.db = db
        self._secret = secret
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
        async with self.db.sessionmaker() as s:
            row = (await s.execute(sa.select(AiCredential).where(
                AiCredential.tenant_id == tenant_id, AiCredential.provider == provider))).scalar_one_or_none()
        cred = None
        if row is not None:
            try:
                cred = Credential(decrypt(row.secret, secret=self._secret, context=tenant_id.encode()), row.base_url)
            except DecryptError:   # secret key changed: the tenant must enter the key again
                cred = None
        self._creds[(tenant_id, provider)] = (time.monotonic() + _TTL, cred)
        return cred

    async def reserve(self, tenant_id: str, cost_micros: int) -> bool:
        p = period_of()
        b = AiBudget.__table__.c
        current_spent = sa.case((b.period == p, b.spent_micros), else_=0)
        current_calls = sa.case((b.period == p, b.calls), else_=0)
        stmt = (sa.update(AiBudget.__table__)
                .where(b.tenant_id == tenant_id,
                       sa.or_(b.monthly_budget_micros.is_(None), current_spent + cost_micros <= b.monthly_budget_micros),
                       sa.or_(b.monthly_call_quota.is_(None), current_calls + 1 <= b.monthly_call_quota))
                .values(spent_micros=current_spent + cost_micros, calls=current_calls + 1, period=p,
                        updated_at=utcnow()))
        async with self.db.sessionmaker() as s, s.begin():
            if (await s.execute(stmt)).rowcount == 1:
                return True
            # No row: no budget set for this tenant, nothing to enforce.
            exists = (await s.execute(sa.select(b.tenant_id).where(b.tenant_id == tenant_id))).first()
            return exists is None

    async def settle(self, tenant_id: str, reserved_micros: int, actual_micros: int, called: bool) -> None:
        b = AiBudget.__table__.c
        values: dict[str, Any] = {"spent_micros": b.spent_micros - reserved_micros + actual_micros}
        if not called:
            values["calls"] = b.calls - 1
        async with self.db.sessionmaker() as s, s.begin():
            await s.execute(sa.update(AiBudget.__table__).where(b.tenant_id == tenant_id, b.period == period_of())
                            .values(**values))

    async def record(self, usage: dict[str, Any]) -> None:
        row = {**usage, "error": (usage.get("error") or None) and usage["error"][:300]}
        async with self.db.sessionmaker() as s, s.begin():
            await s.execute(sa.insert(AiUsage.__table__).values(**row, created_at=utcnow()))
        observe_ai_usage(usage)   # Prometheus counters (backend/metrics.py)


class DbCache:
    def __init__(self, db: Database):
        self.db = db

    async def get(self, key: str) -> dict[str, Any] | None:
        t = AiCacheEntry.__table__.c
        async with self.db.sessionmaker() as s:
            return (await s.execute(sa.select(t.value).where(t.key == key, t.expires_at > utcnow()))).scalar()

    async def set(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        expires = utcnow() + timedelta(seconds=ttl_s)
        dialect = self.db.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(AiCacheEntry.__table__).values(key=key, value=value, expires_at=expires)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value, "expires_at": expires})
        async with self.db.sessionmaker() as s, s.begin():
            await s.execute(stmt)
            # Expired entries go a few at a time, so the table never needs a sweeper job.
            t = AiCacheEntry.__table__.c
            old = sa.select(t.key).where(t.expires_at < utcnow()).limit(20).scalar_subquery()
            await s.execute(sa.delete(AiCacheEntry.__table__).where(t.key.in_(old)))


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
        from backend.auth.deps import secret_key
        from nodes.ai.cache import RedisCache

        self.db = Database(settings.resolved_database_url)
        cache = RedisCache(settings.redis_url) if settings.redis_url else DbCache(self.db)
        super().__init__(ai_config(settings), DbStore(self.db, secret_key(settings)), cache)

    async def aclose(self) -> None:
        await super().aclose()
        if hasattr(self.cache, "aclose"):
            await self.cache.aclose()
        await self.db.dispose()


def build_gateway(settings: Settings) -> DbGateway:
    return DbGateway(settings)
