"""Recovery at start-up (embedded mode): runs the last process left `queued` or `running`
continue by themselves, under the same run id, so idempotency keys match.

A queued run starts again. A running run gets a `run.resumed` event ("resumed after crash")
and a new pass that reuses its recorded node outputs (the mechanism of pause/resume, see
backend/runs/control.py). A node that was interrupted mid-execution runs again only when that
is safe: its type has no side effects, or keyed ones (NodeSpec.side_effect_kind). Otherwise
the node waits (reason `interrupted`) and an owner or editor decides through
`POST /api/runs/{id}/interrupted` to run it again or to skip it; the rest of the run goes on.
Prefect flow and task runs of the interrupted passes are marked Crashed once the API answers.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.auth.schemas import Principal
from backend.db.models import NodeRun, Run, RunEvent
from backend.errors import Conflict, Unprocessable
from backend.runs import instances
from backend.runs.control import _claim, continue_run
from backend.runs.services import get_run
from flows.compile import Plan, compile_graph

log = logging.getLogger("maily.runs.recovery")

INTERRUPTED = "interrupted"
CHOICES = ("rerun", "skip")


def _unsafe_interrupted(plan: Plan, rows: list[NodeRun]) -> dict[str, dict[str, Any]]:
    """Nodes left running whose type may have had an effect that running again would repeat,
    as the engine's `waiting` entries. A node inside a logic.for_each waits as its outermost
    for_each (the for_each runs again as a whole, so only `rerun` is offered for it)."""
    waits: dict[str, dict[str, Any]] = {}
    for row in rows:
        node = plan.nodes.get(row.node_id)
        if row.status != "running" or node is None or node.type.spec.rerun_safe:
            continue
        top = node
        while top.scope is not None:
            top = plan.nodes[top.scope]
        entry = waits.setdefault(top.id, {"resume_at": None, "reason": INTERRUPTED, "details": {
            "message": "the app stopped while this node was running and it may have had an effect "
                       "(its side effects are not keyed): choose to run it again or to skip it",
            "node_type": node.type.spec.type, "choices": ["rerun"] if top is not node else list(CHOICES),
            "nodes": []}})
        entry["details"]["nodes"].append({"node_id": row.node_id, "iteration": row.iteration})
    return waits


async def resume_interrupted(state: Any) -> tuple[int, list[str]]:
    """Resume every run left queued or running by an app process that is gone (a live
    replica's runs are its own: backend/runs/instances.py); returns how many and the Prefect
    flow run ids of their interrupted passes."""
    resumed, flow_runs = 0, []
    async with state.db.sessionmaker() as s:
        runs = list(await s.scalars(select(Run).where(Run.status.in_(("queued", "running"))).order_by(Run.created_at)))
        gone = await instances.gone_owners(s, {r.owner_instance for r in runs})
        for run in [r for r in runs if r.owner_instance in gone]:
            run_id = run.id   # read now: a rollback below expires the row
            if run.prefect_flow_run_id:
                flow_runs.append(run.prefect_flow_run_id)
            try:
                resumed += await _resume_one(s, state, run)
            except Exception:
                log.exception("run %s could not be resumed after the crash", run_id)
                await s.rollback()
                await s.execute(update(Run).where(Run.id == run_id).values(
                    status="failed", finished_at=datetime.now(timezone.utc),
                    error={"kind": "crashed", "message": "the app stopped during this run and it could not be resumed"}))
                await s.commit()
    return resumed, flow_runs


async def _resume_one(s: AsyncSession, state: Any, run: Run) -> bool:
    plan = compile_graph(run.graph, state.registry)
    rows = list(await s.scalars(select(NodeRun).where(NodeRun.run_id == run.id)))
    was, owner, waits = run.status, run.owner_instance, _unsafe_interrupted(plan, rows)
    interrupted = [r.node_id for r in rows if r.status == "running"]
    if was == "running":
        last = await s.scalar(select(func.max(RunEvent.seq)).where(RunEvent.run_id == run.id)) or 0
        s.add(RunEvent(run_id=run.id, seq=last + 1, kind="run.resumed", at=datetime.now(timezone.utc),
                       data={"message": "resumed after crash", "interrupted": interrupted,
                             "waiting_for_decision": sorted(waits)}))
    # the next pass rewaits the unsafe ones: they are written into waiting_on as the engine expects
    waiting_on = [{"node_id": nid, "node_type": plan.nodes[nid].type.spec.type, **data} for nid, data in waits.items()]
    await s.commit()
    if not await _claim(s, run, was, owner=owner, waiting_on=waiting_on or None):
        return False
    await s.refresh(run)
    log.warning("run %s was %s when the app stopped: resumed%s", run.id, was,
                f", {len(waits)} node(s) wait for a decision" if waits else "")
    return await continue_run(s, run, state.runner, state.recorder, state.registry)


async def decide_interrupted(s: AsyncSession, p: Principal, state: Any, run_id: str, node_id: Any, action: Any) -> Run:
    """An owner's or editor's decision on a node the crash interrupted: run it again, or skip it
    (its first output port gives {"skipped_after_crash": true} and nothing runs)."""
    run = await get_run(s, p, run_id)
    entries = [e for e in (run.waiting_on or []) if e.get("reason") == INTERRUPTED] if run.status == "waiting" else []
    entry = next((e for e in entries if e["node_id"] == node_id), None)
    if entry is None:
        raise Conflict(f"run {run_id} is {run.status} and no interrupted node {node_id!r} waits for a decision")
    choices = (entry.get("details") or {}).get("choices") or list(CHOICES)
    if action not in choices:
        raise Unprocessable(f"action must be one of {', '.join(choices)}",
                            problems=[{"field": "action", "pointer": "/action", "message": f"one of {choices}"}])
    rest = [e for e in run.waiting_on or [] if e["node_id"] != node_id]
    if action == "skip":
        plan = compile_graph(run.graph, state.registry)
        port = plan.nodes[node_id].type.spec.outputs[0].name
        rest.append({**entry, "decision": {port: {"skipped_after_crash": True}}})
    if not await _claim(s, run, "waiting", waiting_on=rest or None):
        raise Conflict(f"run {run_id} was decided or resumed already")
    await audit.record(s, p, "run.interrupted_decision", "run", run_id, {"node_id": node_id, "action": action})
    await s.commit()
    await s.refresh(run)
    await continue_run(s, run, state.runner, state.recorder, state.registry)
    await s.refresh(run)
    return run


async def end_prefect_flow_runs(prefect: Any, flow_run_ids: list[str]) -> int:
    """Mark the Prefect flow runs (and their task runs) of interrupted passes Crashed, so
    Prefect does not show them running forever. Best effort: logged, never raised."""
    if not flow_run_ids or prefect is None:
        return 0
    try:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterState,
                                                    TaskRunFilterStateType)
        from prefect.client.schemas.objects import StateType
        from prefect.states import Crashed

        await prefect.ready()
        ended = 0
        live = [StateType.RUNNING, StateType.PENDING, StateType.SCHEDULED, StateType.PAUSED]
        async with get_client() as client:
            for flow_run_id in flow_run_ids:
                try:
                    flow_run = await client.read_flow_run(flow_run_id)
                except Exception:
                    continue   # not in this Prefect server (its database was reset)
                tasks = await client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])),
                    task_run_filter=TaskRunFilter(state=TaskRunFilterState(type=TaskRunFilterStateType(any_=live))))
                for task_run in tasks:
                    await client.set_task_run_state(task_run.id, Crashed(message="the app stopped"), force=True)
                if flow_run.state is not None and flow_run.state.type in live:
                    await client.set_flow_run_state(flow_run.id, Crashed(message="the app stopped; the run was "
                                                                         "resumed as a new flow run"), force=True)
                    ended += 1
        return ended
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("could not mark the interrupted Prefect flow runs crashed")
        return 0
