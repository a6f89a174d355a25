"""Run retention: each workspace keeps ended runs N days (default 30) and at most M per workflow
(default 1000, the newest); older ones go with their node runs, events and outbox rows.

Never pruned, whatever their age: runs that have not ended (queued, running, waiting, paused),
runs a certificate names, and runs an unfinished retry or re-run reuses. Outbox rows whose run
no longer exists (or that belong to no run: invitations) go once they are older than the age.

Pruning works in batches of `batch` runs, each its own short transaction, so it never holds
locks on many rows for long; node runs and events go with their run (ON DELETE CASCADE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.audit import record
from backend.auth.schemas import Principal
from backend.certify.models import Certificate
from backend.db.models import NodeRun, Run, RunEvent, Tenant, utcnow
from backend.db.session import Database
from backend.email.models import EmailOutboxMessage
from backend.retention.models import DEFAULT_KEEP_DAYS, DEFAULT_MAX_PER_WORKFLOW, RunRetention
from backend.retention.schemas import PruneReportOut, RetentionIn, RetentionOut

ENDED = ("succeeded", "failed", "cancelled")
KEPT_ALWAYS = ["runs not ended yet (queued, running, waiting, paused)", "runs a certificate names",
               "runs an unfinished retry or re-run reuses"]
REPORTED_IDS = 100


@dataclass(frozen=True)
class Policy:
    keep_days: int = DEFAULT_KEEP_DAYS
    max_per_workflow: int | None = DEFAULT_MAX_PER_WORKFLOW


async def policy_of(s: AsyncSession, tenant_id: str) -> Policy:
    row = await s.get(RunRetention, tenant_id)
    return Policy() if row is None else Policy(row.keep_days, row.max_per_workflow)


def _out(policy: Policy) -> RetentionOut:
    return RetentionOut(keep_days=policy.keep_days, max_per_workflow=policy.max_per_workflow, kept_always=KEPT_ALWAYS)


async def get_policy(s: AsyncSession, p: Principal) -> RetentionOut:
    return _out(await policy_of(s, p.tenant_id))


async def set_policy(s: AsyncSession, p: Principal, body: RetentionIn) -> RetentionOut:
    row = await s.get(RunRetention, p.tenant_id)
    if row is None:
        row = RunRetention(tenant_id=p.tenant_id)
        s.add(row)
    before = {"keep_days": row.keep_days, "max_per_workflow": row.max_per_workflow}
    row.keep_days, row.max_per_workflow, row.updated_at = body.keep_days, body.max_per_workflow, utcnow()
    await record(s, p, "retention.update", "workspace", p.tenant_id, {"from": before, "to": body.model_dump()})
    return _out(Policy(row.keep_days, row.max_per_workflow))


def _prunable(tenant_id: str, policy: Policy, now: datetime) -> Select[tuple[str]]:
    """Ids of the tenant's runs past its policy that nothing keeps, oldest first."""
    cutoff = now - timedelta(days=policy.keep_days)
    newer = aliased(Run)
    reasons: list[ColumnElement[bool]] = [func.coalesce(Run.finished_at, Run.created_at) < cutoff]
    if policy.max_per_workflow is not None:
        rank = (select(Run.id.label("id"), func.row_number().over(partition_by=Run.workflow_id,
                                                                   order_by=(Run.created_at.desc(), Run.id.desc())).label("n"))
                .where(Run.tenant_id == tenant_id, Run.workflow_id.is_not(None)).subquery())
        reasons.append(Run.id.in_(select(rank.c.id).where(rank.c.n > policy.max_per_workflow)))
    certified = select(Certificate.run_id).where(Certificate.tenant_id == tenant_id, Certificate.run_id.is_not(None))
    reused = exists().where(newer.retry_of == Run.id, newer.status.not_in(ENDED))
    return (select(Run.id).where(Run.tenant_id == tenant_id, Run.status.in_(ENDED), or_(*reasons),
                                 Run.id.not_in(certified), ~reused)
            .order_by(Run.created_at, Run.id))


def _orphan_outbox(tenant_id: str, policy: Policy, now: datetime) -> ColumnElement[bool]:
    cutoff = now - timedelta(days=policy.keep_days)
    return and_(EmailOutboxMessage.tenant_id == tenant_id, EmailOutboxMessage.created_at < cutoff,
                ~exists().where(Run.id == EmailOutboxMessage.run_id))


async def _count(s: AsyncSession, q: Select[tuple[int]]) -> int:
    return int(await s.scalar(q) or 0)


async def _dry_run(s: AsyncSession, tenant_id: str, policy: Policy, now: datetime) -> PruneReportOut:
    ids = _prunable(tenant_id, policy, now).subquery()
    outbox_of_runs = await _count(s, select(func.count()).select_from(EmailOutboxMessage)
                                  .where(EmailOutboxMessage.tenant_id == tenant_id, EmailOutboxMessage.run_id.in_(select(ids.c.id))))
    orphans = await _count(s, select(func.count()).select_from(EmailOutboxMessage)
                           .where(_orphan_outbox(tenant_id, policy, now)))
    return PruneReportOut(
        dry_run=True,
        runs=await _count(s, select(func.count()).select_from(ids)),
        node_runs=await _count(s, select(func.count()).select_from(NodeRun).where(NodeRun.run_id.in_(select(ids.c.id)))),
        events=await _count(s, select(func.count()).select_from(RunEvent).where(RunEvent.run_id.in_(select(ids.c.id)))),
        outbox=outbox_of_runs + orphans,
        run_ids=list(await s.scalars(_prunable(tenant_id, policy, now).limit(REPORTED_IDS))))


async def prune_tenant(db: Database, tenant_id: str, *, dry_run: bool = False, batch: int = 200,
                       now: datetime | None = None) -> PruneReportOut:
    """Prune one workspace by its policy (or, dry, count what would go)."""
    now = now or utcnow()
    async with db.sessionmaker() as s:
        policy = await policy_of(s, tenant_id)
        if dry_run:
            return await _dry_run(s, tenant_id, policy, now)
    report = PruneReportOut(dry_run=False)
    while True:
        async with db.sessionmaker() as s, s.begin():
            ids = list(await s.scalars(_prunable(tenant_id, policy, now).limit(batch)))
            if not ids:
                break
            report.node_runs += await _count(s, select(func.count()).select_from(NodeRun).where(NodeRun.run_id.in_(ids)))
            report.events += await _count(s, select(func.count()).select_from(RunEvent).where(RunEvent.run_id.in_(ids)))
            report.outbox += (await s.execute(delete(EmailOutboxMessage).where(
                EmailOutboxMessage.tenant_id == tenant_id, EmailOutboxMessage.run_id.in_(ids)))).rowcount
            # node runs and events go by ON DELETE CASCADE; the status is checked again at delete time
            gone = list(await s.scalars(delete(Run).where(Run.id.in_(ids), Run.status.in_(ENDED)).returning(Run.id)))
            report.runs += len(gone)
            report.run_ids.extend(gone[:REPORTED_IDS - len(report.run_ids)])
        if len(ids) < batch:
            break
    while True:
        async with db.sessionmaker() as s, s.begin():
            orphan_ids = list(await s.scalars(select(EmailOutboxMessage.id)
                                              .where(_orphan_outbox(tenant_id, policy, now)).limit(batch)))
            if orphan_ids:
                await s.execute(delete(EmailOutboxMessage).where(EmailOutboxMessage.id.in_(orphan_ids)))
        report.outbox += len(orphan_ids)
        if len(orphan_ids) < batch:
            break
    return report


async def prune_all(db: Database, *, dry_run: bool = False, batch: int = 200,
                    now: datetime | None = None) -> dict[str, PruneReportOut]:
    """Every workspace, by slug: what was (or would be) pruned."""
    async with db.sessionmaker() as s:
        tenants = list((await s.execute(select(Tenant.id, Tenant.slug).order_by(Tenant.slug))).all())
    return {slug: await prune_tenant(db, tid, dry_run=dry_run, batch=batch, now=now) for tid, slug in tenants}
