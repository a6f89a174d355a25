"""Run control: pause and resume, approvals, retry, re-run from a node, the visible queue,
and the resumer that continues suspended runs when their time comes.

One mechanism serves them all: `Engine.run(..., reuse=...)`. A node whose recorded output
is reused is not executed again (`node.reused`). Outputs are reused from the node runs'
recorded `output`, which the engine caps at 64 KB: a node whose output was recorded
truncated cannot be reused, and a run that would need it is not resumable (its error, or a
409, says which node and why). See docs/engine.md, "Run control".
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.auth.schemas import Principal
from backend.db.models import NodeRun, Run, RunEvent
from backend.errors import Conflict, Forbidden, Unprocessable
from backend.periodic import Periodic
from backend.runs import instances
from backend.runs.recorder import DbRecorder
from backend.runs.reuse import EffectsToConfirm, NotResumable, next_pass, retry_reuse
from backend.runs.services import compile_or_422, get_run, node_runs
from flows.compile import Plan, compile_graph
from flows.runner import RunManager
from nodes.approval.wait import form_errors
from nodes.registry import NodeRegistry
from nodes.services import SUBWORKFLOW_WAIT

log = logging.getLogger("maily.runs.control")

ENDED = ("succeeded", "failed", "cancelled")
_ROW_FIELDS = ("id", "run_id", "tenant_id", "node_id", "node_type", "iteration", "status", "attempts",
               "started_at", "finished_at", "input", "output", "error")


def row_dicts(rows: list[NodeRun]) -> list[dict[str, Any]]:
    return [{f: getattr(r, f) for f in _ROW_FIELDS} for r in rows]


def _meta(run: Run) -> dict[str, Any]:
    return {"workflow_id": run.workflow_id, "version": run.workflow_version, "trigger": run.trigger,
            "root_run_id": run.root_run_id or run.id}


def _types(plan: Plan) -> dict[str, str]:
    return {nid: n.type.spec.type for nid, n in plan.nodes.items()}


_ANY_OWNER: Any = object()


async def _claim(s: AsyncSession, run: Run, expected: str, *, owner: Any = _ANY_OWNER, **values: Any) -> bool:
    """Move the run from `expected` to queued and to this process, atomically: one decision / one
    resumer wins. `owner`: only while the run still belongs to that app instance (recovery)."""
    where = [Run.id == run.id, Run.status == expected]
    if owner is not _ANY_OWNER:
        where.append(Run.owner_instance.is_(None) if owner is None else Run.owner_instance == owner)
    result = await s.execute(update(Run).where(*where)
                             .values(status="queued", owner_instance=instances.current(), **values)
                             .execution_options(synchronize_session=False))
    await s.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _fail(s: AsyncSession, run_id: str, message: str) -> None:
    await s.execute(update(Run).where(Run.id == run_id).values(
        status="failed", finished_at=datetime.now(timezone.utc), resume_at=None,
        error={"kind": "not_resumable", "message": message}).execution_options(synchronize_session=False))
    await s.commit()


async def continue_run(s: AsyncSession, run: Run, runner: RunManager, recorder: DbRecorder, registry: NodeRegistry,
                       *, now: datetime | None = None) -> bool:
    """Start the next pass of a waiting or paused run that the caller has claimed (status
    queued): completed nodes are reused, waiting nodes whose time has come (or whose decision
    is recorded in `waiting_on`) give their result, the others wait again (reuse.next_pass).
    False when not resumable. In production mode the worker that takes the pass computes the
    same from the database (backend/runs/worker.py)."""
    now = now or datetime.now(timezone.utc)
    try:
        plan = compile_graph(run.graph, registry)
        rows = row_dicts(await node_runs(s, run.id))
        reuse, still = next_pass(plan, run.waiting_on, rows, now, run.reuse)
    except NotResumable as exc:
        await _fail(s, run.id, str(exc))
        return False
    except Exception as exc:  # the snapshot no longer compiles (a node type went away)
        log.exception("run %s cannot be resumed", run.id)
        await _fail(s, run.id, f"the run cannot be resumed: {exc}")
        return False
    last = await s.scalar(select(func.max(RunEvent.seq)).where(RunEvent.run_id == run.id)) or 0
    await recorder.flush()     # the previous pass is written out before this one registers
    recorder.register(run.id, run.tenant_id, _types(plan), existing=rows)
    runner.submit(plan, run.id, run.input, tenant_id=run.tenant_id, meta=_meta(run), reuse=reuse,
                  waiting=still, seq_after=last)
    return True


# -- the API's operations ---------------------------------------------------------------------------------

async def pause_run(s: AsyncSession, p: Principal, runner: RunManager, recorder: DbRecorder, run_id: str) -> Run:
    run = await get_run(s, p, run_id)
    if run.status not in ("queued", "running"):
        raise Conflict(f"run {run_id} is {run.status}; only a queued or running run can be paused")
    if runner.remote is not None and run.status == "queued":
        raise Conflict(f"run {run_id} is queued and no worker has it yet; pause it once it is running, or cancel it")
    if not await runner.pause(run_id):
        raise Conflict(f"run {run_id} is not running in this app; cancel it or retry it instead" if runner.remote is None
                       else f"no worker paused run {run_id} within 10 s (its worker may have died: another takes it "
                            f"over within seconds); try again, or cancel it")
    await recorder.flush()
    await audit.record(s, p, "run.pause", "run", run_id, {"status_before": run.status})
    await s.commit()
    await s.refresh(run)
    return run


async def resume_run(s: AsyncSession, p: Principal, runner: RunManager, recorder: DbRecorder,
                     registry: NodeRegistry, run_id: str) -> Run:
    run = await get_run(s, p, run_id)
    if run.status != "paused" or not await _claim(s, run, "paused"):
        raise Conflict(f"run {run_id} is {run.status}; only a paused run can be resumed"
                       + (" (a waiting run resumes on its own or with a decision)" if run.status == "waiting" else ""))
    await audit.record(s, p, "run.resume", "run", run_id, {})
    await s.commit()
    await s.refresh(run)
    await continue_run(s, run, runner, recorder, registry)
    await s.refresh(run)
    return run


def waiting_entry(run: Run, reason: str, node_id: str | None, what: str) -> dict[str, Any]:
    """The one entry of run.waiting_on for `reason` (at node_id when given): 409 when there is
    none (decided already), 422 naming the nodes when several wait and node_id is missing."""
    entries = [e for e in (run.waiting_on or []) if e.get("reason") == reason] if run.status == "waiting" else []
    if node_id is not None:
        entries = [e for e in entries if e["node_id"] == node_id]
    if not entries:
        raise Conflict(f"run {run.id} is {run.status} and has no {what} waiting"
                       + (f" at node {node_id}" if node_id else "") + "; it may have been decided already")
    if len(entries) > 1:
        raise Unprocessable(f"several nodes have {what} waiting; name one with node_id",
                            problems=[{"node_id": e["node_id"]} for e in entries])
    return entries[0]


async def decide(s: AsyncSession, p: Principal, runner: RunManager, recorder: DbRecorder, registry: NodeRegistry,
                 run_id: str, decision: str, data: Any, node_id: str | None = None) -> Run:
    """Approve or reject the run's waiting approval node with the form's data."""
    run = await get_run(s, p, run_id)
    entry = waiting_entry(run, "approval", node_id, "approval")
    details = entry.get("details") or {}
    if details.get("approvers") == "owner" and p.role != "owner":
        raise Forbidden(f"only owners may decide at {entry['node_id']}; your role is {p.role}")
    check_form(entry, data)
    return await record_decision(s, run, entry, decision, data, {"user_id": p.user_id, "email": p.email, "name": p.name},
                                 p, runner, recorder, registry)


def check_form(entry: dict[str, Any], data: Any) -> None:
    """422 naming every field of the approval form the data gets wrong."""
    if not isinstance(data, dict):
        raise Unprocessable("the body is the form's data: a JSON object",
                            problems=[{"field": "", "pointer": "", "message": "expected an object"}])
    problems = form_errors((entry.get("details") or {}).get("form") or {"type": "object"}, data)
    if problems:
        first = problems[0]
        raise Unprocessable(f"the form is not valid: {first['field'] or '(form)'}: {first['message']}",
                            problems=problems)


async def record_decision(s: AsyncSession, run: Run, entry: dict[str, Any], decision: str, data: dict[str, Any],
                          decided_by: dict[str, Any], p: Principal | None, runner: RunManager, recorder: DbRecorder,
                          registry: NodeRegistry) -> Run:
    """Store the decision with the waiting entry, claim the run (the first decision wins: 409 for
    the others), audit it (p None: decided through a mailed link) and start the next pass."""
    outputs = {decision: {"decision": decision, "data": data, "decided_by": decided_by,
                          "decided_at": datetime.now(timezone.utc).isoformat()}}
    # the decision is stored with the waiting entry: whoever runs the next pass (this app, or a
    # worker in production mode) reads it from there
    decided = [{**e, "decision": outputs} if e["node_id"] == entry["node_id"] else e for e in run.waiting_on or []]
    if not await _claim(s, run, "waiting", waiting_on=decided):
        raise Conflict(f"run {run.id} was decided or resumed already")
    await audit.record(s, p, "run.approve" if decision == "approved" else "run.reject", "run", run.id,
                       {"node_id": entry["node_id"], "decision": decision,
                        **({} if p is not None else {"via": "link", "email": decided_by.get("email")})},
                       tenant_id=run.tenant_id)
    await s.commit()   # at once: a pending write would hold the row lock the run's recorder needs
    await s.refresh(run)
    await continue_run(s, run, runner, recorder, registry)
    await s.refresh(run)
    return run


async def _start_from(s: AsyncSession, p: Principal, runner: RunManager, recorder: DbRecorder, plan: Plan,
                      old: Run, reuse: dict[str, dict[str, Any]], rerun_from: str | None, *, keep: bool = False) -> Run:
    """`keep`: record `reuse` on the run (a worker could not decide it again: confirmed repeats)."""
    run = Run(id=uuid.uuid4().hex, tenant_id=p.tenant_id, workflow_id=old.workflow_id,
              workflow_version=old.workflow_version, status="queued", trigger=old.trigger, input=old.input,
              graph=old.graph, created_by=p.user_id, created_at=datetime.now(timezone.utc),
              retry_of=old.id, rerun_from=rerun_from, root_run_id=old.root_run_id or old.id,
              owner_instance=instances.current(), reuse=reuse if keep else None)
    s.add(run)
    await audit.record(s, p, "run.rerun" if rerun_from else "run.retry", "run", run.id,
                       {"workflow_id": old.workflow_id, "version": old.workflow_version, "retry_of": old.id,
                        **({"from_node": rerun_from} if rerun_from else {})})
    await s.commit()
    recorder.register(run.id, p.tenant_id, _types(plan))
    runner.submit(plan, run.id, run.input, tenant_id=p.tenant_id, meta=_meta(run), reuse=reuse)
    return run


async def retry_run(s: AsyncSession, p: Principal, runner: RunManager, recorder: DbRecorder,
                    registry: NodeRegistry, run_id: str) -> Run:
    """A new run of the same graph snapshot and input, reusing every node that succeeded."""
    old = await get_run(s, p, run_id)
    if old.status not in ("failed", "cancelled"):
        raise Conflict(f"run {run_id} is {old.status}; only a failed or cancelled run can be retried")
    plan = compile_or_422(old.graph, registry)
    try:
        reuse = retry_reuse(plan, row_dicts(await node_runs(s, old.id)), None, first_pass=old.reuse)
    except NotResumable as exc:
        raise Conflict(str(exc)) from None
    return await _start_from(s, p, runner, recorder, plan, old, reuse, None)


async def rerun_from(s: AsyncSession, p: Principal, runner: RunManager, recorder: DbRecorder,
                     registry: NodeRegistry, run_id: str, from_node: Any, repeat: Any = ()) -> Run:
    """A new run reusing the outputs of every node that is not `from_node` or downstream of it,
    and of every side effect already done (unless `repeat` names it: 409 asks about from_node's)."""
    old = await get_run(s, p, run_id)
    if old.status not in ENDED:
        raise Conflict(f"run {run_id} is {old.status}; re-run from a node once it has ended")
    plan = compile_or_422(old.graph, registry)
    rows = row_dicts(await node_runs(s, old.id))
    problem = [{"field": "from_node", "pointer": "/from_node", "node_id": str(from_node)}]
    if not isinstance(from_node, str) or from_node not in plan.nodes:
        raise Unprocessable(f"node {from_node!r} is not in this run's graph", problems=problem)
    if not any(r["node_id"] == from_node and r["status"] not in ("queued", "skipped") for r in rows):
        raise Unprocessable(f"node {from_node!r} never ran in run {run_id}", problems=problem)
    repeat = [n for n in repeat if isinstance(n, str)] if isinstance(repeat, list) else []
    try:
        reuse = retry_reuse(plan, rows, from_node, repeat, old.reuse)
    except NotResumable as exc:
        raise Conflict(str(exc)) from None
    except EffectsToConfirm as exc:
        raise Conflict(str(exc), side_effects=exc.side_effects) from None
    return await _start_from(s, p, runner, recorder, plan, old, reuse, from_node, keep=bool(repeat))


async def queue(s: AsyncSession, p: Principal, runner: RunManager) -> tuple[list[Run], list[tuple[Run, int]]]:
    """The tenant's running runs and its queued ones with their positions (1 = next)."""
    running_ids, queued_ids = runner.queue_of(p.tenant_id)
    ids = [*running_ids, *queued_ids]
    rows = {r.id: r for r in await s.scalars(select(Run).where(Run.tenant_id == p.tenant_id, Run.id.in_(ids)))} \
        if ids else {}
    running = [rows[i] for i in running_ids if i in rows]
    queued = [(rows[i], n) for n, i in enumerate(queued_ids, 1) if i in rows]
    return running, queued


# -- the resumer ----------------------------------------------------------------------------------------------

class Resumer(Periodic):
    """Continues suspended runs whose `resume_at` has passed: one asyncio loop polling the
    database every `poll_s` seconds. A waiting run holds no task, no sleep, no slot."""

    name, failure = "run-resumer", "the resumer could not look for due runs"

    def __init__(self, state: Any, poll_s: float = 1.0):
        super().__init__(poll_s, log)
        self.state = state

    async def tick(self, now: datetime | None = None) -> int:
        """Resume every waiting run due at `now` (default: the time now), and every run waiting on a
        child run that has ended (flow.subworkflow); returns how many."""
        now = now or datetime.now(timezone.utc)
        st = self.state
        async with st.db.sessionmaker() as s:
            due = list(await s.scalars(select(Run).where(Run.status == "waiting", Run.resume_at.is_not(None),
                                                         Run.resume_at <= now).order_by(Run.resume_at).limit(200)))
            resumed = 0
            for run in due:
                if await _claim(s, run, "waiting"):
                    await s.refresh(run)
                    resumed += await continue_run(s, run, st.runner, st.recorder, st.registry, now=now)
            for run, entries in await _parents_of_ended_children(s):
                if await _claim(s, run, "waiting", waiting_on=entries):
                    await s.refresh(run)
                    resumed += await continue_run(s, run, st.runner, st.recorder, st.registry, now=now)
            return resumed


async def _parents_of_ended_children(s: AsyncSession) -> list[tuple[Run, list[dict[str, Any]]]]:
    """Waiting runs whose flow.subworkflow waits on a child run that has ended, each with its
    `waiting_on` where those entries are marked `resume` (the node executes again)."""
    child = aliased(Run)
    rows = (await s.execute(
        select(Run, child.id).join(child, child.parent_run_id == Run.id)
        .where(Run.status == "waiting", child.tenant_id == Run.tenant_id, child.status.in_(ENDED),
               cast(Run.waiting_on, Text).contains(child.id))    # it waits on that child
        .limit(200))).all()
    ended: dict[str, set[str]] = {}
    parents: dict[str, Run] = {}
    for run, child_id in rows:     # one query: each parent with the ended children it waits on
        parents[run.id] = run
        ended.setdefault(run.id, set()).add(child_id)
    out = []
    for run in parents.values():
        marked = [{**e, "resume": True} if e.get("reason") == SUBWORKFLOW_WAIT
                  and (e.get("details") or {}).get("child_run_id") in ended[run.id] else e for e in run.waiting_on or []]
        if any(e.get("resume") for e in marked):
            out.append((run, marked))
    return out
