"""Runs: start (answers at once, runs in the background), read, list, cancel.

Every query is scoped to the caller's tenant; another tenant's run answers 404."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.auth.schemas import Principal
from backend.db.models import NodeRun, Run, RunEvent, WorkflowVersion, looks_like_id
from backend.db.scoped import find_scoped
from backend.errors import Conflict, NotFound, Unprocessable
from backend.runs import instances
from backend.runs.recorder import DbRecorder
from backend.collab.rooms import RoomManager
from backend.workflows.services import draft_graph, get_workflow
from flows.compile import CompileError, Plan, compile_graph
from flows.pins import without_pins
from flows.runner import RunManager
from nodes.registry import NodeRegistry


async def note_prefect_flow_run(db: Any, run_id: str, flow_run_id: str) -> None:
    """The Prefect flow run of the run's current pass, once its record created it
    (flows/prefect_record.py): the run already started, so this is a column of its own."""
    async with db.sessionmaker() as s:
        await s.execute(update(Run).where(Run.id == run_id).values(prefect_flow_run_id=flow_run_id))
        await s.commit()


def compile_or_422(graph: Any, registry: NodeRegistry) -> Plan:
    try:
        return compile_graph(graph, registry)
    except CompileError as exc:
        problems = [p.to_json() for p in exc.result.problems]
        raise Unprocessable(f"the graph cannot run: {exc}", problems=problems) from None


async def graph_of_workflow(s: AsyncSession, p: Principal, workflow_id: str, source: str,
                            version: int | None, collab: RoomManager) -> tuple[dict[str, Any], int | None]:
    """The graph to run: a published version, or the draft as the shared document holds it
    right now (an open room's edits reach the stored draft only about a second later)."""
    wf = await get_workflow(s, p, workflow_id)
    if version is None and source == "published":
        version = wf.published_version
        if version is None:
            raise Conflict("this workflow has no published version yet; publish it or run the draft")
    if version is None:   # pins are the editor's test data: never part of a run
        return without_pins(await draft_graph(s, wf, collab)), None
    row = await s.scalar(select(WorkflowVersion).where(WorkflowVersion.workflow_id == wf.id,
                                                       WorkflowVersion.version == version))
    if row is None:
        raise NotFound(f"workflow {workflow_id} has no version {version}")
    return row.graph, version


async def start_run(s: AsyncSession, p: Principal, runner: RunManager, recorder: DbRecorder, registry: NodeRegistry,
                    *, graph: dict[str, Any], payload: dict[str, Any], trigger: str,
                    workflow_id: str | None = None, version: int | None = None,
                    reuse: dict[str, dict[str, Any]] | None = None) -> Run:
    """Record a new run and submit it; `reuse`: outputs of nodes not to execute (node.reused)."""
    plan = compile_or_422(graph, registry)
    run = await record_run(s, p, recorder, plan, uuid.uuid4().hex, graph=graph, payload=payload, trigger=trigger,
                           workflow_id=workflow_id, version=version, reuse=reuse)
    runner.submit(plan, run.id, payload, tenant_id=p.tenant_id,
                  meta={"workflow_id": workflow_id, "version": version, "trigger": trigger, "root_run_id": run.id},
                  reuse=reuse)
    return run


async def record_run(s: AsyncSession, p: Principal, recorder: DbRecorder, plan: Plan, run_id: str, *,
                     graph: dict[str, Any], payload: dict[str, Any], trigger: str, workflow_id: str | None,
                     version: int | None, parent: tuple[str, str] | None = None,
                     reuse: dict[str, dict[str, Any]] | None = None) -> Run:
    """The run's row (queued; a child's linked to its parent run and node), audited and
    committed, and the recorder told of its nodes: what must exist before it is submitted."""
    run = Run(id=run_id, tenant_id=p.tenant_id, workflow_id=workflow_id, workflow_version=version,
              status="queued", trigger=trigger, input=payload, graph=graph, created_by=p.user_id,
              created_at=datetime.now(timezone.utc), root_run_id=run_id, owner_instance=instances.current(),
              reuse=reuse or None,
              parent_run_id=parent[0] if parent else None, parent_node_id=parent[1] if parent else None)
    s.add(run)
    await audit.record(s, p, "run.start", "run", run.id, {"workflow_id": workflow_id, "version": version,
                                                         "trigger": trigger})
    await s.commit()  # the recorder writes node runs that reference this row
    recorder.register(run.id, p.tenant_id, {nid: n.type.spec.type for nid, n in plan.nodes.items()})
    return run


async def get_run(s: AsyncSession, p: Principal, run_id: str) -> Run:
    if not looks_like_id(run_id):
        raise NotFound(f"no run {run_id!r}")
    run = await find_scoped(s, Run, p.tenant_id, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    return run


async def child_runs(s: AsyncSession, run: Run) -> list[Run]:
    """The runs this run's flow.subworkflow nodes started, oldest first."""
    rows = await s.scalars(select(Run).where(Run.parent_run_id == run.id, Run.tenant_id == run.tenant_id)
                           .order_by(Run.created_at, Run.id))
    return list(rows)


async def node_runs(s: AsyncSession, run_id: str) -> list[NodeRun]:
    rows = await s.scalars(select(NodeRun).where(NodeRun.run_id == run_id)
                           .order_by(NodeRun.started_at.is_(None), NodeRun.started_at, NodeRun.node_id))
    return list(rows)


async def events_of(s: AsyncSession, run_id: str, after_seq: int = 0) -> list[RunEvent]:
    rows = await s.scalars(select(RunEvent).where(RunEvent.run_id == run_id, RunEvent.seq > after_seq)
                           .order_by(RunEvent.seq))
    return list(rows)


async def cancel_run(s: AsyncSession, p: Principal, runner: RunManager, recorder: DbRecorder, run_id: str) -> Run:
    run = await get_run(s, p, run_id)
    if run.status in ("succeeded", "failed", "cancelled"):
        raise Conflict(f"run {run_id} has already {run.status}")
    await audit.record(s, p, "run.cancel", "run", run_id, {"status_before": run.status})
    # production: a queued run no worker has taken answers within 2 s; a worker that takes it
    # later finds it cancelled and skips it
    if await runner.cancel(run_id, timeout_s=2.0 if run.status == "queued" else 10.0):
        await recorder.flush()
    else:
        # embedded: queued or running in the database but not in this process (left over from a
        # restart); production: no worker has it
        run.status, run.finished_at = "cancelled", datetime.now(timezone.utc)
        await s.commit()
    for child in await child_runs(s, run):
        # a running child ends with its calling node; one that suspended (the parent waits on it) is cancelled here
        if child.status in ("waiting", "paused"):
            try:
                await cancel_run(s, p, runner, recorder, child.id)
            except Conflict:
                pass     # it ended meanwhile
    await s.refresh(run)
    return run
