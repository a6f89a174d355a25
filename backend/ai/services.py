"""AI credentials, budgets and usage reports: shared by the API and `maily ai usage`.

Provider keys live in the credential vault as `ai_provider` credentials, one per provider
(backend/credentials/managed.py); /api/ai/credentials is a view of those."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend.ai.models import AiBudget, AiUsage
from backend.ai.schemas import BudgetIn, BudgetOut, ChainEntry, CredentialIn, CredentialOut, GroupBy, ModelChainsOut
from backend.credentials import managed
from backend.credentials.envelope import Keyring
from backend.credentials.models import Credential
from backend.db.models import Tenant, utcnow
from backend.errors import NotFound
from nodes.ai.gateway import PROVIDER_KINDS

def _cred_out(row: Credential, values: dict[str, Any]) -> CredentialOut:
    key = values.get("api_key") or ""
    return CredentialOut(id=row.id, provider=values["provider"], key_hint=("…" + key[-4:]) if len(key) >= 12 else "",
                         base_url=values.get("base_url") or None, created_at=row.created_at, updated_at=row.updated_at)


async def list_credentials(s: AsyncSession, tenant_id: str, keyring: Keyring) -> list[CredentialOut]:
    out = []
    for provider in PROVIDER_KINDS:
        row, values = await managed.current(s, keyring, tenant_id, "ai_provider", provider=provider)
        if row is not None:
            out.append(_cred_out(row, values))
    return sorted(out, key=lambda c: c.provider)


async def put_credential(s: AsyncSession, tenant_id: str, provider: str, data: CredentialIn, *,
                         keyring: Keyring, created_by: str | None = None) -> CredentialOut:
    if provider not in PROVIDER_KINDS:
        raise NotFound(f"no provider {provider!r}; one of {', '.join(PROVIDER_KINDS)}")
    # Sealed in the vault, bound to tenant and credential: a row copied elsewhere does not open.
    values = {"provider": provider, "base_url": data.base_url or "", "api_key": data.api_key}
    row = await managed.upsert(s, keyring, tenant_id, "ai_provider", f"AI provider: {provider}", values,
                               {"provider": provider}, created_by=created_by)
    return _cred_out(row, values)


async def delete_credential(s: AsyncSession, tenant_id: str, provider: str) -> None:
    rows = await managed.find(s, tenant_id, "ai_provider", provider=provider)
    if not rows:
        raise NotFound(f"no {provider} credentials in this tenant")
    for row in rows:
        await s.delete(row)


async def model_chains(s: AsyncSession, tenant_id: str, tier_models: dict[str, list[dict[str, str]]],
                       operator_providers: set[str]) -> ModelChainsOut:
    """What each tier resolves to (MAILY_AI_TIER_MODELS or nodes.ai.gateway.DEFAULT_TIER_MODELS) and this
    workspace's tier; every entry says whose key it would use, as the gateway picks it (workspace first)."""
    tier = (await s.execute(sa.select(Tenant.tier).where(Tenant.id == tenant_id))).scalar() or "free"
    own = {r.fields.get("provider") for r in await managed.find(s, tenant_id, "ai_provider")}

    def entries(chain: list[dict[str, str]]) -> list[ChainEntry]:
        return [ChainEntry(provider=e["provider"], model=e["model"], base_url=e.get("base_url") or None,
                           key="workspace" if e["provider"] in own else
                           "operator" if e["provider"] in operator_providers else "missing")
                for e in chain if e.get("provider") in PROVIDER_KINDS]   # the gateway skips any other kind too

    return ModelChainsOut(tier=tier, chain=entries(tier_models.get(tier, [])),
                          tiers={name: entries(chain) for name, chain in tier_models.items()})


def _month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def get_budget(s: AsyncSession, tenant_id: str) -> BudgetOut:
    now = utcnow()
    period = now.strftime("%Y-%m")
    row = await s.get(AiBudget, tenant_id)
    if row is not None and row.period == period:
        spent, calls = row.spent_micros, row.calls
    else:   # no budget (or a new month): the ledger says what this month used
        spent, calls = await _month_spend(s, tenant_id, now)
    return BudgetOut(monthly_budget_usd=None if row is None or row.monthly_budget_micros is None
                     else row.monthly_budget_micros / 1e6,
                     monthly_call_quota=row.monthly_call_quota if row else None, period=period,
                     spent_usd=spent / 1e6, calls=calls)


def month_spend_query(tenant_id: str, now: datetime) -> sa.Select[Any]:
    """What the ledger says the tenant's month used: (cost, calls)."""
    u = AiUsage.__table__.c
    return sa.select(sa.func.coalesce(sa.func.sum(u.cost_micros), 0),
                     sa.func.count().filter(u.cached.is_(False))).where(u.tenant_id == tenant_id,
                                                                        u.created_at >= _month_start(now))


async def _month_spend(s: AsyncSession, tenant_id: str, now: datetime) -> tuple[int, int]:
    spent, calls = (await s.execute(month_spend_query(tenant_id, now))).one()
    return int(spent), int(calls)


async def put_budget(s: AsyncSession, tenant_id: str, data: BudgetIn) -> BudgetOut:
    now = utcnow()
    row = await s.get(AiBudget, tenant_id)
    if row is None:
        # A budget set mid-month starts from what the month has already spent.
        spent, calls = await _month_spend(s, tenant_id, now)
        row = AiBudget(tenant_id=tenant_id, period=now.strftime("%Y-%m"), spent_micros=spent, calls=calls)
        s.add(row)
    row.monthly_budget_micros = None if data.monthly_budget_usd is None else round(data.monthly_budget_usd * 1e6)
    row.monthly_call_quota = data.monthly_call_quota
    await s.flush()
    return await get_budget(s, tenant_id)


def _usage_keys(s: AsyncSession, group_by: GroupBy) -> dict[str, Any]:
    """The report's key columns by name: one, or day and model for a chart by day and model."""
    u = AiUsage.__table__.c
    day = sa.func.to_char(u.created_at, "YYYY-MM-DD")
    model = u.provider + ":" + u.model
    if group_by == "day_model":
        return {"day": day, "model": model}
    return {group_by: {"day": day, "model": model, "workflow": u.workflow_id, "provider": u.provider,
                       "node_type": u.node_type}[group_by]}


async def usage_report(s: AsyncSession, tenant_id: str, group_by: GroupBy, since: datetime | None = None,
                       until: datetime | None = None) -> list[dict[str, Any]]:
    u = AiUsage.__table__.c
    keys = _usage_keys(s, group_by)
    q = (sa.select(*(col.label(name) for name, col in keys.items()), sa.func.count().label("calls"),
                   sa.func.count().filter(u.cached.is_(True)).label("cache_hits"),
                   sa.func.count().filter(u.ok.is_(False)).label("errors"),
                   sa.func.coalesce(sa.func.sum(u.tokens_in), 0).label("tokens_in"),
                   sa.func.coalesce(sa.func.sum(u.tokens_out), 0).label("tokens_out"),
                   sa.func.coalesce(sa.func.sum(u.cost_micros), 0).label("cost_micros"),
                   sa.func.avg(u.latency_ms).label("avg_latency_ms"))
         .where(u.tenant_id == tenant_id).group_by(*keys.values()).order_by(*keys.values()))
    if since is not None:
        q = q.where(u.created_at >= since)
    if until is not None:
        q = q.where(u.created_at < until)
    return [{**{name: getattr(r, name) for name in keys}, "calls": r.calls, "cache_hits": r.cache_hits,
             "errors": r.errors, "tokens_in": int(r.tokens_in), "tokens_out": int(r.tokens_out),
             "cost_usd": int(r.cost_micros) / 1e6, "avg_latency_ms": round(float(r.avg_latency_ms or 0), 2)}
            for r in (await s.execute(q))]


def forget_keys(app_state: Any, tenant_id: str) -> None:
    """Drop the AI gateway's cached keys of a tenant, so the next call sees a changed or deleted
    key at once, not after the cache TTL (the /api/ai and /api/credentials routes call it)."""
    store = getattr(getattr(app_state, "ai", None), "store", None)
    if hasattr(store, "forget"):
        store.forget(tenant_id)
