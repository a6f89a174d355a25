"""The node panel's data: each node's latest output in the draft's runs, pins over them, and
expression previews rendered in the same sandbox (and limits) as a run (nodes/expressions.py).

"The last run" of a node is its latest node run among the draft's recent runs (full runs and
test runs alike): executing one node keeps the outputs the others had."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterable

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.schemas import Principal
from backend.collab.rooms import RoomManager
from backend.db.models import NodeRun, Run, Workflow
from backend.panel.schemas import LastDataOut, NodeDataOut, PreviewOut, TestRunIn
from backend.panel.testruns import plan_test_run, trigger_input
from backend.runs.reuse import truncated
from backend.runs.services import start_run
from backend.workflows.services import draft_graph, get_workflow
from flows.engine import MAX_RECORDED_BYTES, capped
from flows.pins import pins_of
from nodes.errors import NodeConfigError
from nodes.expressions import render_value
from nodes.registry import NodeRegistry

RECENT_RUNS = 20                  # the draft runs whose node runs count as "the last run"


async def recent_draft_runs(s: AsyncSession, tenant_id: str, workflow_id: str) -> list[Run]:
    rows = await s.scalars(select(Run).where(Run.tenant_id == tenant_id, Run.workflow_id == workflow_id,
                                             Run.workflow_version.is_(None))
                           .order_by(Run.created_at.desc(), Run.id).limit(RECENT_RUNS))
    return list(rows)


async def latest_node_runs(s: AsyncSession, runs: list[Run], node_ids: Iterable[str] | None = None, *,
                           succeeded: bool = False) -> dict[str, NodeRun]:
    """Per node id, its node run in the newest of `runs` where it ran (main path, or item 0 inside a
    for_each); `succeeded`: only those that succeeded."""
    if not runs:
        return {}
    order = {r.id: i for i, r in enumerate(runs)}
    q = select(NodeRun).where(NodeRun.run_id.in_(order), NodeRun.status.not_in(("queued", "skipped")),
                              or_(NodeRun.iteration.is_(None), NodeRun.iteration == 0))
    if node_ids is not None:
        q = q.where(NodeRun.node_id.in_(list(node_ids)))
    if succeeded:
        q = q.where(NodeRun.status == "succeeded")
    best: dict[str, NodeRun] = {}
    for row in await s.scalars(q):
        held = best.get(row.node_id)
        # the newest run first; within one run the main-path row before an item's
        if held is None or (order[row.run_id], row.iteration is not None) < (order[held.run_id], held.iteration is not None):
            best[row.node_id] = row
    return best


async def last_data(s: AsyncSession, p: Principal, wf: Workflow, node_ids: list[str]) -> LastDataOut:
    runs = await recent_draft_runs(s, p.tenant_id, wf.id)
    rows = await latest_node_runs(s, runs, node_ids)
    nodes = {nid: NodeDataOut(run_id=r.run_id, status=r.status, iteration=r.iteration, finished_at=r.finished_at,
                              input=r.input, output=r.output, error=r.error) for nid, r in rows.items()}
    return LastDataOut(run_id=runs[0].id if runs else None, trigger=runs[0].input if runs else None, nodes=nodes)


def _primary(output: Any) -> Any:
    return next(iter(output.values()), None) if isinstance(output, dict) else None


def known_outputs(pins: dict[str, dict[str, Any]], rows: dict[str, NodeRun]) -> dict[str, dict[str, Any]]:
    """Each node's outputs by port: its pin, else its latest successful node run's output."""
    out = {nid: r.output for nid, r in rows.items() if r.status == "succeeded" and isinstance(r.output, dict)}
    return {**out, **pins}


def _inputs_of(graph: dict[str, Any], node_id: str, outputs: dict[str, dict[str, Any]],
               registry: NodeRegistry) -> dict[str, Any]:
    """What would arrive at the node from its upstream outputs (as the engine assembles it)."""
    node = next((n for n in graph.get("nodes", []) if n.get("id") == node_id), None)
    node_type = registry.get(node.get("type", ""), node.get("type_version", 1)) if node else None
    many = {p.name for p in node_type.spec.inputs if p.multiple} if node_type else set()
    inputs: dict[str, Any] = {}
    for e in graph.get("edges", []):
        if e.get("target") != node_id or e.get("source") not in outputs:
            continue
        value = outputs[e["source"]].get(e.get("source_port", "output"))
        port = e.get("target_port", "input")
        if port in many:
            inputs.setdefault(port, []).append(value)
        else:
            inputs[port] = value
    return inputs


def _loop_item(graph: dict[str, Any], rows: dict[str, NodeRun], registry: NodeRegistry) -> Any:
    """`item` inside a for_each: what item 0 carried into its sub-path (the recorded input of a node
    fed by a for_each's per-item port)."""
    types = {n.get("id"): registry.get(n.get("type", ""), n.get("type_version", 1)) for n in graph.get("nodes", [])}
    for e in graph.get("edges", []):
        source = types.get(e.get("source"))
        each = source is not None and any(p.each and p.name == e.get("source_port") for p in source.spec.outputs)
        row = rows.get(e.get("target")) if each else None
        if row is not None and row.iteration == 0 and isinstance(row.input, dict):
            return row.input.get(e.get("target_port", "input"))
    return None


def preview_scope(graph: dict[str, Any], node_id: str | None, run: Run | None, rows: dict[str, NodeRun],
                  registry: NodeRegistry) -> dict[str, Any]:
    """The scope a run gives expressions (flows/engine.py `_execute`), from pins and the last run."""
    outputs = known_outputs(pins_of(graph), rows)
    nodes = {nid: {"output": _primary(out), "ports": out} for nid, out in outputs.items()}
    trigger = run.input if run is not None else None
    for n in graph.get("nodes", []):
        spec = registry.get(n.get("type", ""), n.get("type_version", 1))
        if spec is not None and spec.spec.trigger and n.get("id") in outputs:
            trigger = _primary(outputs[n["id"]])          # a pinned trigger is the run input
    run_meta = {"id": run.id if run else "preview", "workflow_id": run.workflow_id if run else None,
                "trigger": run.trigger if run else "manual"}
    scope: dict[str, Any] = {"nodes": nodes, "trigger": trigger, "run": run_meta}
    if node_id is not None:
        inputs = _inputs_of(graph, node_id, outputs, registry)
        scope.update(input=inputs.get("input"), inputs=inputs)
        row = rows.get(node_id)
        if row is not None and row.iteration is not None:
            scope.update(item=_loop_item(graph, rows, registry), index=0)
    return scope


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), "string")


def render_preview(expression: str, scope: dict[str, Any]) -> PreviewOut:
    """Render as a run would (the same ImmutableSandboxedEnvironment, time budget and size caps)."""
    try:
        value = render_value(expression, scope)
    except NodeConfigError as e:
        return PreviewOut(ok=False, error=e.message)
    recorded = capped(value)
    if isinstance(recorded, dict) and recorded.get("truncated") is True and len(json.dumps(value, default=str)) > MAX_RECORDED_BYTES:
        return PreviewOut(ok=True, value=recorded["preview"], type=_json_type(value), truncated=True)
    return PreviewOut(ok=True, value=recorded, type=_json_type(value))


async def preview(s: AsyncSession, p: Principal, wf: Workflow, collab: RoomManager, registry: NodeRegistry,
                  expression: str, node_id: str | None) -> PreviewOut:
    graph = await draft_graph(s, wf, collab)
    runs = await recent_draft_runs(s, p.tenant_id, wf.id)
    rows = await latest_node_runs(s, runs)
    scope = preview_scope(graph, node_id, runs[0] if runs else None, rows, registry)
    # a render may spend its whole time budget: in a worker thread, as the engine does
    result = await asyncio.to_thread(render_preview, expression, scope)
    result.run_id = runs[0].id if runs else None
    return result


async def start_test_run(s: AsyncSession, p: Principal, st: Any, workflow_id: str, body: TestRunIn) -> Run:
    """Plan (backend/panel/testruns.py) and start a test run of the draft, trigger `test`."""
    wf = await get_workflow(s, p, workflow_id)
    draft = await draft_graph(s, wf, st.collab)
    runs = await recent_draft_runs(s, p.tenant_id, wf.id)
    rows = await latest_node_runs(s, runs, succeeded=True)
    recorded = {nid: r.output for nid, r in rows.items() if isinstance(r.output, dict) and not truncated(r.output)}
    plan = plan_test_run(draft, st.registry, body.node_id, body.mode, recorded, dict(body.side_effects))
    payload = trigger_input(draft, st.registry, body.input, runs[0].input if runs else None)
    return await start_run(s, p, st.runner, st.recorder, st.registry, graph=plan.graph, payload=payload,
                           trigger="test", workflow_id=wf.id, reuse=plan.reuse)
