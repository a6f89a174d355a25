"""The run explorer: runs across all workflows filtered by workflow, status, trigger, time and
text; a run started again with the same input; two runs compared node by node.

Text search is a case-insensitive substring match (ILIKE) over the JSON text of a run's input,
output and error, and of its node runs' outputs and errors. Both expressions carry a pg_trgm GIN
index (migrations/versions/2026_12_05_0018_run_explorer.py): `RUN_TEXT` and `NODE_TEXT` must
stay the very expressions indexed there. Every query is scoped to the caller's tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.auth.schemas import Principal
from backend.collab.rooms import RoomManager
from backend.db.models import NodeRun, Run, looks_like_id
from backend.errors import Unprocessable
from backend.runs import services
from backend.runs.recorder import DbRecorder
from backend.runs.schemas import NodeSideOut, RunCompareOut, NodeCompareOut
from backend.workflows.services import draft_graph, get_workflow
from flows.jsonequal import same
from flows.runner import RunManager
from nodes.registry import NodeRegistry

SEARCH_MIN, SEARCH_MAX = 2, 200


# Spelled as SQL so they match the indexed expressions exactly (a bound '' would not).
RUN_TEXT: ColumnElement[str] = literal_column(
    "(coalesce((runs.input)::text, '') || ' ' || coalesce((runs.output)::text, '') || ' ' "
    "|| coalesce((runs.error)::text, ''))", String)
NODE_TEXT: ColumnElement[str] = literal_column(
    "(coalesce((node_runs.output)::text, '') || ' ' || coalesce((node_runs.error)::text, ''))", String)


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class RunFilter:
    workflow_id: str | None = None
    status: str | None = None
    trigger: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None


def _search(q: str, tenant_id: str) -> ColumnElement[bool]:
    q = q.strip()
    if not SEARCH_MIN <= len(q) <= SEARCH_MAX:
        raise Unprocessable(f"q: search for {SEARCH_MIN} to {SEARCH_MAX} characters", field="q")
    pattern = _like(q)
    in_nodes = select(NodeRun.run_id).where(NodeRun.tenant_id == tenant_id, NODE_TEXT.ilike(pattern, escape="\\"))
    return or_(RUN_TEXT.ilike(pattern, escape="\\"), Run.id.in_(in_nodes))


async def list_runs(s: AsyncSession, p: Principal, f: RunFilter, *, limit: int, offset: int) -> list[Run]:
    """The tenant's runs, newest first, that pass every filter given."""
    if f.workflow_id and not looks_like_id(f.workflow_id):
        return []
    q = select(Run).where(Run.tenant_id == p.tenant_id)
    if f.workflow_id:
        q = q.where(Run.workflow_id == f.workflow_id)
    if f.status:
        q = q.where(Run.status == f.status)
    if f.trigger:
        q = q.where(Run.trigger == f.trigger)
    if f.since:
        q = q.where(Run.created_at >= f.since)
    if f.until:
        q = q.where(Run.created_at < f.until)
    if f.q:
        q = q.where(_search(f.q, p.tenant_id))
    return list(await s.scalars(q.order_by(Run.created_at.desc(), Run.id).limit(limit).offset(offset)))


async def replay(s: AsyncSession, p: Principal, runner: RunManager, recorder: DbRecorder, registry: NodeRegistry,
                 collab: RoomManager, run_id: str, source: str) -> Run:
    """A new run with the same input as `run_id`: of the graph that ran (`source` "run") or of the
    workflow's draft as it is now ("draft"). Nothing is reused: every node runs again."""
    old = await services.get_run(s, p, run_id)
    graph = old.graph
    if source == "draft":
        if old.workflow_id is None:
            raise Unprocessable("source: this run's graph was sent with the request and belongs to no workflow; "
                                "replay it with source \"run\"", field="source")
        graph = await draft_graph(s, await get_workflow(s, p, old.workflow_id), collab)
    await audit.record(s, p, "run.replay", "run", run_id, {"source": source})
    return await services.start_run(s, p, runner, recorder, registry, graph=graph, payload=dict(old.input or {}),
                                    trigger="replay", workflow_id=old.workflow_id,
                                    version=old.workflow_version if source == "run" else None)


def _side(row: NodeRun | None) -> NodeSideOut | None:
    if row is None:
        return None
    return NodeSideOut(status=row.status, output=row.output, error=row.error)


async def compare(s: AsyncSession, p: Principal, a_id: str, b_id: str) -> RunCompareOut:
    """Two runs of the tenant side by side, node by node (a for_each's items each on their own row):
    each side's status, output and error, and whether the outputs are the same."""
    a, b = await services.get_run(s, p, a_id), await services.get_run(s, p, b_id)
    rows_a = {(n.node_id, n.iteration): n for n in await services.node_runs(s, a.id)}
    rows_b = {(n.node_id, n.iteration): n for n in await services.node_runs(s, b.id)}
    keys = list(rows_a) + [k for k in rows_b if k not in rows_a]
    nodes = []
    for key in keys:
        ra, rb = rows_a.get(key), rows_b.get(key)
        equal = ra is not None and rb is not None and same(ra.output, rb.output) and same(ra.error, rb.error)
        nodes.append(NodeCompareOut(node_id=key[0], iteration=key[1], node_type=(ra or rb).node_type,  # type: ignore[union-attr]
                                    a=_side(ra), b=_side(rb), same=equal))
    return RunCompareOut(a=a.id, b=b.id, same_output=same(a.output, b.output), nodes=nodes,
                         differing=sum(1 for n in nodes if not n.same))
