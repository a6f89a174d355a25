"""Triggers: webhooks, schedules and chains of the caller's tenant (CRUD), and starting the
runs they trigger. Another tenant's ids answer 404, as everywhere."""

from __future__ import annotations

import logging
import secrets
from collections import deque
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.schemas import Principal
from backend.crypto import decrypt, encrypt
from backend.db.models import Run, utcnow
from backend.db.scoped import find_scoped
from backend.errors import NotFound, Unprocessable
from backend.runs.services import graph_of_workflow, start_run
from flows.cron import CronError, check_cron, check_timezone, next_fire_times
from backend.triggers.models import Chain, Schedule, Webhook
from backend.triggers.schemas import (ChainCreateIn, ChainOut, ScheduleCreateIn, ScheduleOut, SchedulePreviewOut,
                                      ScheduleUpdateIn,
                                      WebhookCreateIn, WebhookOut, WebhookUpdateIn)
from backend.workflows.services import get_workflow

log = logging.getLogger("maily.triggers")

SECRET_PREFIX = "whsec_"


def trigger_principal(tenant_id: str, user_id: str | None, what: str) -> Principal:
    """Who a triggered run runs as: the tenant, and the person who set the trigger up."""
    return Principal(user_id=user_id, tenant_id=tenant_id, role="editor", email="", name=what)  # type: ignore[arg-type]


# --- webhooks ---------------------------------------------------------------------------

def _ctx(tenant_id: str, webhook_id: str) -> bytes:
    return f"webhook:{tenant_id}:{webhook_id}".encode()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def webhook_secret(hook: Webhook) -> str:
    return decrypt(hook.secret_enc, context=_ctx(hook.tenant_id, hook.id))


def _set_secret(hook: Webhook) -> str:
    secret = new_secret()
    hook.secret_enc = encrypt(secret, context=_ctx(hook.tenant_id, hook.id))
    hook.secret_hint = secret[: len(SECRET_PREFIX) + 4]
    return secret


def webhook_out(hook: Webhook, base_url: str) -> WebhookOut:
    return WebhookOut(id=hook.id, workflow_id=hook.workflow_id, url=f"{base_url.rstrip('/')}/hooks/{hook.id}",
                      source=hook.source, allow_token=hook.allow_token, description=hook.description,  # type: ignore[arg-type]
                      respond=hook.respond or "immediately",  # type: ignore[arg-type]
                      secret_hint=hook.secret_hint, created_at=hook.created_at, rotated_at=hook.rotated_at,
                      last_used_at=hook.last_used_at)


async def create_webhook(s: AsyncSession, p: Principal, workflow_id: str, body: WebhookCreateIn) -> tuple[Webhook, str]:
    wf = await get_workflow(s, p, workflow_id)
    hook = Webhook(id=secrets.token_hex(16), tenant_id=p.tenant_id, workflow_id=wf.id, source=body.source,
                   allow_token=body.allow_token, respond=body.respond, description=body.description, created_by=p.user_id,
                   created_at=utcnow())
    secret = _set_secret(hook)
    s.add(hook)
    await s.flush()
    return hook, secret


async def get_webhook(s: AsyncSession, p: Principal, workflow_id: str, webhook_id: str) -> Webhook:
    await get_workflow(s, p, workflow_id)
    hook = await find_scoped(s, Webhook, p.tenant_id, webhook_id, Webhook.workflow_id == workflow_id)
    if hook is None:
        raise NotFound(f"no webhook {webhook_id!r}")
    return hook


async def list_webhooks(s: AsyncSession, p: Principal, workflow_id: str) -> list[Webhook]:
    await get_workflow(s, p, workflow_id)
    rows = await s.scalars(select(Webhook).where(Webhook.tenant_id == p.tenant_id, Webhook.workflow_id == workflow_id)
                           .order_by(Webhook.created_at, Webhook.id))
    return list(rows)


async def update_webhook(s: AsyncSession, p: Principal, workflow_id: str, webhook_id: str,
                         body: WebhookUpdateIn) -> Webhook:
    hook = await get_webhook(s, p, workflow_id, webhook_id)
    for k in ("source", "allow_token", "respond", "description"):
        v = getattr(body, k)
        if v is not None:
            setattr(hook, k, v)
    await s.flush()
    return hook


async def rotate_webhook(s: AsyncSession, p: Principal, workflow_id: str, webhook_id: str) -> tuple[Webhook, str]:
    hook = await get_webhook(s, p, workflow_id, webhook_id)
    secret = _set_secret(hook)
    hook.rotated_at = utcnow()
    await s.flush()
    return hook, secret


async def delete_webhook(s: AsyncSession, p: Principal, workflow_id: str, webhook_id: str) -> None:
    await s.delete(await get_webhook(s, p, workflow_id, webhook_id))
    await s.flush()


# --- schedules --------------------------------------------------------------------------

def upcoming(schedule: Schedule, n: int = 5, now: datetime | None = None) -> list[datetime]:
    if not schedule.enabled:
        return []
    try:
        return next_fire_times(schedule.cron, schedule.timezone, now or utcnow(), n)
    except (CronError, ValueError) as exc:   # a cron that never matches (30 February)
        log.warning("schedule %s: no fire times: %s", schedule.id, exc)
        return []


def schedule_out(schedule: Schedule) -> ScheduleOut:
    return ScheduleOut(
        **{k: getattr(schedule, k) for k in ScheduleOut.model_fields if k != "next_runs"},
        next_runs=upcoming(schedule),
    )


async def preview_schedule(s: AsyncSession, p: Principal, workflow_id: str, cron: str | None,
                           tz: str | None, n: int = 5) -> SchedulePreviewOut:
    """The next `n` fire times of a cron in a time zone, before it is saved; a bad one is a 422 naming it."""
    await get_workflow(s, p, workflow_id)
    field = "cron"
    try:
        expr = check_cron(cron or "")
        field = "timezone"
        zone = check_timezone(tz or "UTC")
        field = "cron"
        times = next_fire_times(expr, zone, utcnow(), n)
    except (CronError, ValueError) as exc:   # ValueError: a cron that never matches (30 February)
        raise Unprocessable(str(exc), field=field, pointer=f"/{field}") from None
    return SchedulePreviewOut(cron=expr, timezone=zone, next_runs=times)


def _plan_next(schedule: Schedule, now: datetime | None = None) -> None:
    times = upcoming(schedule, 1, now)
    schedule.next_run_at = times[0] if times else None
    schedule.revision = (schedule.revision or 0) + 1
    schedule.updated_at = utcnow()


async def create_schedule(s: AsyncSession, p: Principal, workflow_id: str, body: ScheduleCreateIn) -> Schedule:
    wf = await get_workflow(s, p, workflow_id)
    sch = Schedule(tenant_id=p.tenant_id, workflow_id=wf.id, cron=body.cron, timezone=body.timezone,
                   enabled=body.enabled, input=body.input, source=body.source, created_by=p.user_id,
                   created_at=utcnow(), revision=0)
    _plan_next(sch)
    s.add(sch)
    await s.flush()
    return sch


async def get_schedule(s: AsyncSession, p: Principal, workflow_id: str, schedule_id: str) -> Schedule:
    await get_workflow(s, p, workflow_id)
    sch = await find_scoped(s, Schedule, p.tenant_id, schedule_id, Schedule.workflow_id == workflow_id)
    if sch is None:
        raise NotFound(f"no schedule {schedule_id!r}")
    return sch


async def list_schedules(s: AsyncSession, p: Principal, workflow_id: str) -> list[Schedule]:
    await get_workflow(s, p, workflow_id)
    rows = await s.scalars(select(Schedule).where(Schedule.tenant_id == p.tenant_id,
                                                  Schedule.workflow_id == workflow_id)
                           .order_by(Schedule.created_at, Schedule.id))
    return list(rows)


async def update_schedule(s: AsyncSession, p: Principal, workflow_id: str, schedule_id: str,
                          body: ScheduleUpdateIn) -> Schedule:
    sch = await get_schedule(s, p, workflow_id, schedule_id)
    for k in ("cron", "timezone", "enabled", "input", "source"):
        v = getattr(body, k)
        if v is not None:
            setattr(sch, k, v)
    _plan_next(sch)
    sch.last_error = None
    await s.flush()
    return sch


async def delete_schedule(s: AsyncSession, p: Principal, workflow_id: str, schedule_id: str) -> None:
    await s.delete(await get_schedule(s, p, workflow_id, schedule_id))
    await s.flush()


# --- chains -----------------------------------------------------------------------------

def chain_out(c: Chain) -> ChainOut:
    return ChainOut(id=c.id, source_workflow_id=c.source_workflow_id, target_workflow_id=c.target_workflow_id,
                    on=list(c.on), source=c.source, created_at=c.created_at)  # type: ignore[arg-type]


async def _reaches(s: AsyncSession, tenant_id: str, start: str, goal: str) -> bool:
    """Does following the tenant's chains from `start` reach `goal`? (breadth first)"""
    edges: dict[str, set[str]] = {}
    for src, dst in (await s.execute(select(Chain.source_workflow_id, Chain.target_workflow_id)
                                     .where(Chain.tenant_id == tenant_id))).all():
        edges.setdefault(src, set()).add(dst)
    seen, todo = {start}, deque([start])
    while todo:
        cur = todo.popleft()
        if cur == goal:
            return True
        for nxt in edges.get(cur, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


async def create_chain(s: AsyncSession, p: Principal, workflow_id: str, body: ChainCreateIn) -> Chain:
    source = await get_workflow(s, p, workflow_id)
    try:
        target = await get_workflow(s, p, body.target_workflow_id)
    except NotFound:
        raise Unprocessable(f"no workflow {body.target_workflow_id!r} to chain to",
                            field="target_workflow_id", pointer="/target_workflow_id") from None
    if await _reaches(s, p.tenant_id, target.id, source.id):
        raise Unprocessable("this chain would close a cycle: the target already leads back to this workflow"
                            if target.id != source.id else "a workflow cannot trigger itself",
                            field="target_workflow_id", pointer="/target_workflow_id")
    exists = await s.scalar(select(Chain).where(Chain.source_workflow_id == source.id,
                                                Chain.target_workflow_id == target.id))
    if exists is not None:
        exists.on, exists.source = sorted(set(body.on)), body.source
        await s.flush()
        return exists
    chain = Chain(tenant_id=p.tenant_id, source_workflow_id=source.id, target_workflow_id=target.id,
                  on=sorted(set(body.on)), source=body.source, created_by=p.user_id, created_at=utcnow())
    s.add(chain)
    await s.flush()
    return chain


async def list_chains(s: AsyncSession, p: Principal, workflow_id: str) -> list[Chain]:
    """Chains out of the workflow and into it."""
    await get_workflow(s, p, workflow_id)
    rows = await s.scalars(select(Chain).where(Chain.tenant_id == p.tenant_id,
                                               (Chain.source_workflow_id == workflow_id)
                                               | (Chain.target_workflow_id == workflow_id))
                           .order_by(Chain.created_at, Chain.id))
    return list(rows)


async def delete_chain(s: AsyncSession, p: Principal, workflow_id: str, chain_id: str) -> None:
    await get_workflow(s, p, workflow_id)
    chain = await find_scoped(s, Chain, p.tenant_id, chain_id, Chain.source_workflow_id == workflow_id)
    if chain is None:
        raise NotFound(f"no chain {chain_id!r}")
    await s.delete(chain)
    await s.flush()


# --- starting triggered runs ------------------------------------------------------------

async def start_triggered_run(state: Any, s: AsyncSession, *, tenant_id: str, user_id: str | None,
                              workflow_id: str, source: str, payload: dict[str, Any], trigger: str,
                              graph: dict[str, Any] | None = None, version: int | None = None) -> Run:
    """A run through backend.runs.services.start_run, as the app's API starts them."""
    p = trigger_principal(tenant_id, user_id, f"trigger:{trigger}")
    if graph is None:
        graph, version = await graph_of_workflow(s, p, workflow_id, source, None, state.collab)
    return await start_run(s, p, state.runner, state.recorder, state.registry, graph=graph, payload=payload,
                           trigger=trigger, workflow_id=workflow_id, version=version)


def aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)

