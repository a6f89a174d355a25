"""Workspaces (tenants) of a person: list, create, rename; their tier and what it unlocks;
the instance admin's list and tier changes (also `maily workspace set-tier`).

A caller authenticated by an API token sees only the token's own workspace: tokens are bound
to one workspace. Another workspace's id is a 404 whatever the role."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.auth import services as auth
from backend.auth.schemas import Principal
from backend.db.models import TENANT_TIERS, Membership, Tenant, looks_like_id
from backend.errors import Conflict, Forbidden, NotFound, Unprocessable
from backend.workspaces.schemas import AdminWorkspaceOut, EnhancementOut, WorkspaceOut
from nodes.ai import NOT_ENHANCEMENTS


def _out(m: Membership, t: Tenant) -> WorkspaceOut:
    return WorkspaceOut(id=t.id, name=t.name, slug=t.slug, tier=t.tier, role=m.role)


def as_member_of(p: Principal, tenant_id: str, role: str) -> Principal:
    """The principal acting in another of their workspaces (for that workspace's audit trail)."""
    return dataclasses.replace(p, tenant_id=tenant_id, role=role)


async def memberships(s: AsyncSession, p: Principal) -> list[tuple[Membership, Tenant]]:
    rows = await auth.memberships_of(s, p.user_id)
    return [(m, t) for m, t in rows if p.token_id is None or t.id == p.tenant_id]


async def list_workspaces(s: AsyncSession, p: Principal) -> list[WorkspaceOut]:
    return [_out(m, t) for m, t in await memberships(s, p)]


async def create_workspace(s: AsyncSession, p: Principal, name: str, slug: str | None) -> WorkspaceOut:
    """A new workspace (tier free) owned by the caller."""
    if slug:
        if await s.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
            raise Conflict(f"the slug {slug!r} is taken", field="slug")
    else:
        slug = await auth.unique_slug(s, name)
    tenant = await auth.create_tenant(s, name, slug)
    m = await auth.add_member(s, tenant.id, p.user_id, "owner")
    await record(s, as_member_of(p, tenant.id, "owner"), "workspace.create", "workspace", tenant.id,
                 {"name": name, "slug": slug})
    return _out(m, tenant)


async def _membership(s: AsyncSession, p: Principal, workspace_id: str) -> tuple[Membership, Tenant]:
    if looks_like_id(workspace_id):
        for m, t in await memberships(s, p):
            if t.id == workspace_id:
                return m, t
    raise NotFound(f"no workspace {workspace_id}")


async def rename_workspace(s: AsyncSession, p: Principal, workspace_id: str, name: str) -> WorkspaceOut:
    m, t = await _membership(s, p, workspace_id)
    if m.role != "owner":
        raise Forbidden(f"your role in this workspace is {m.role}; renaming it needs owner")
    old, t.name = t.name, name
    await record(s, as_member_of(p, t.id, m.role), "workspace.rename", "workspace", t.id, {"from": old, "to": name})
    return _out(m, t)


def enhancements(registry: Any, tier_models: dict[str, list[Any]], tier: str) -> list[EnhancementOut]:
    """The AI enhancement points (docs/ai.md's table: the node library's `ai` nodes) and the tiers
    whose model chain (MAILY_AI_TIER_MODELS, else the gateway's defaults) lets a model answer."""
    tiers = [t for t in TENANT_TIERS if tier_models.get(t)]
    latest = {nt.spec.type: nt.spec for nt in registry.all()
              if nt.spec.category == "ai" and nt.spec.type not in NOT_ENHANCEMENTS}
    return [EnhancementOut(key=spec.type, name=spec.title, description=spec.description, tiers=tiers,
                           unlocked=tier in tiers) for spec in latest.values()]


async def current_workspace(s: AsyncSession, p: Principal) -> tuple[WorkspaceOut, str]:
    m, t = await _membership(s, p, p.tenant_id)
    return _out(m, t), t.tier


# --- instance admin -------------------------------------------------------------------------

async def all_workspaces(s: AsyncSession) -> list[AdminWorkspaceOut]:
    counts = (select(Membership.tenant_id, func.count().label("n")).group_by(Membership.tenant_id)).subquery()
    rows = await s.execute(select(Tenant, func.coalesce(counts.c.n, 0))
                           .outerjoin(counts, counts.c.tenant_id == Tenant.id).order_by(Tenant.created_at, Tenant.id))
    return [AdminWorkspaceOut(id=t.id, name=t.name, slug=t.slug, tier=t.tier, members=n, created_at=t.created_at)
            for t, n in rows.all()]


async def set_tier(s: AsyncSession, actor: Principal | None, workspace: str, tier: str) -> Tenant:
    """Set a workspace's tier (by id or slug). actor None: the CLI. 404 unknown workspace, 422 unknown tier."""
    if tier not in TENANT_TIERS:
        raise Unprocessable(f"tier: unknown tier {tier!r}; one of {', '.join(TENANT_TIERS)}", field="tier")
    q = select(Tenant).where(Tenant.id == workspace) if looks_like_id(workspace) else \
        select(Tenant).where(Tenant.slug == workspace)
    tenant = await s.scalar(q)
    if tenant is None:
        raise NotFound(f"no workspace {workspace}")
    old, tenant.tier = tenant.tier, tier
    by = as_member_of(actor, tenant.id, actor.role) if actor else None
    await record(s, by, "workspace.set_tier", "workspace", tenant.id, {"from": old, "to": tier,
                                                                       "by": "admin" if actor else "cli"},
                 tenant_id=tenant.id)
    return tenant
