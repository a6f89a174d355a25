"""Tables of the AI gateway: per-tenant credentials (encrypted), budgets, the usage ledger, the cache.

Money is integer micro-dollars (1e-6 USD): budget checks are exact integer comparisons
inside one UPDATE.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, JSONType, UtcDateTime, new_id, utcnow

BigInt = sa.BigInteger()


class AiCredential(Base):
    __tablename__ = "ai_credentials"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "provider"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(sa.String(20))          # openai | anthropic | compatible
    # AES-GCM ciphertext (backend/crypto.py), bound to the tenant id: never the key itself.
    secret: Mapped[str] = mapped_column(sa.Text)
    key_hint: Mapped[str] = mapped_column(sa.String(12), default="")   # last 4 characters, to recognise it
    base_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class AiBudget(Base):
    """A tenant's monthly limits and what the current month (`period`, "YYYY-MM") has used."""

    __tablename__ = "ai_budgets"

    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           primary_key=True)
    monthly_budget_micros: Mapped[int | None] = mapped_column(BigInt, nullable=True)   # None: no limit
    monthly_call_quota: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    period: Mapped[str] = mapped_column(sa.String(7))
    spent_micros: Mapped[int] = mapped_column(BigInt, default=0, server_default="0")
    calls: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class AiUsage(Base):
    """The ledger: one row per provider call (failed ones too) and per cache hit."""

    __tablename__ = "ai_usage"
    __table_args__ = (sa.Index("ix_ai_usage_tenant_id_created_at", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(32))
    # Plain columns, no foreign keys: the ledger outlives deleted workflows and runs.
    workflow_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    run_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    node_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    node_type: Mapped[str] = mapped_column(sa.String(100), default="")
    provider: Mapped[str] = mapped_column(sa.String(20))
    model: Mapped[str] = mapped_column(sa.String(100))
    tokens_in: Mapped[int] = mapped_column(sa.Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(sa.Integer, default=0)
    cost_micros: Mapped[int] = mapped_column(BigInt, default=0)
    cached: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    ok: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    error: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    latency_ms: Mapped[float] = mapped_column(sa.Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AiCacheEntry(Base):
    """Response cache when there is no Redis (MAILY_REDIS_URL empty)."""

    __tablename__ = "ai_cache"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONType)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
