"""Bodies of /api/ai: credentials, budgets, model chains and the gateway's health."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Provider = Literal["openai", "anthropic", "compatible"]
GroupBy = Literal["workflow", "model", "day", "provider", "node_type", "day_model"]
KeySource = Literal["workspace", "operator", "missing"]


class CredentialIn(BaseModel):
    api_key: str = Field(default="", max_length=500, description="Write-only: never returned, never logged")
    base_url: str | None = Field(default=None, max_length=500, description="Another endpoint (required for compatible)")

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v and not v.lower().startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        return v or None


class CredentialOut(BaseModel):
    id: str
    provider: str
    key_hint: str
    base_url: str | None
    created_at: datetime
    updated_at: datetime


class BudgetIn(BaseModel):
    monthly_budget_usd: float | None = Field(default=None, ge=0, le=10_000_000, description="null: no limit")
    monthly_call_quota: int | None = Field(default=None, ge=0, le=1_000_000_000, description="null: no limit")


class BudgetOut(BaseModel):
    monthly_budget_usd: float | None
    monthly_call_quota: int | None
    period: str
    spent_usd: float
    calls: int


class ChainEntry(BaseModel):
    provider: str
    model: str
    base_url: str | None = None
    key: KeySource = Field(description="whose key a call would use: the workspace's, the operator's, or none "
                                        "(the entry is skipped)")


class ModelChainsOut(BaseModel):
    tier: str = Field(description="this workspace's plan")
    chain: list[ChainEntry] = Field(description="the models this workspace's AI nodes try, in order; empty: the "
                                                "offline baseline answers")
    tiers: dict[str, list[ChainEntry]] = Field(description="every plan's chain, for comparison")


class ProviderHealthOut(BaseModel):
    """One provider's circuit breaker (nodes/ai/breaker.py)."""

    provider: str
    state: str = Field(description="closed, open or half_open")
    healthy: bool
    consecutive_failures: int
    calls: int
    errors: int
    last_error: str | None
    last_ok_at: float | None = Field(description="Unix time of the last success")
    last_latency_ms: float | None


class AiHealthOut(BaseModel):
    tier: str | None = Field(description="this workspace's plan; null when the AI gateway is off")
    chain: list[dict[str, str]] = Field(description="the plan's chain (provider, model, base_url), in order")
    providers: list[ProviderHealthOut]


class UsageRowOut(BaseModel):
    """One group of the usage report. Its key is the group_by column (workflow, model, day, provider or
    node_type), or day and model for day_model: those pass through beside the totals."""

    model_config = ConfigDict(extra="allow")

    calls: int
    cache_hits: int
    errors: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    avg_latency_ms: float
