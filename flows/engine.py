"""The engine: runs a Plan's nodes as soon as their inputs arrive, branches concurrently.

Scheduling is event driven: when a node finishes, each outgoing edge resolves with the
value of its port, or as "not taken" when the node did not return that port (a branch of
logic.if / logic.switch). A node starts when all its incoming edges have resolved (or
earlier when its `ready` hook says so, as logic.merge in "first" mode does); a node all of
whose incoming edges were not taken is skipped, and so are the nodes that only it feeds.

Each node keeps its own state, attempts, retries and timeout. Cheap pure nodes run inline;
durable ones (side effects, long waits) go through `durable_runner`, which is where Prefect
comes in (flows/prefect_flow.py). Events go to the run's Emitter as they happen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import ChainMap
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

from pydantic import ValidationError

from flows.compile import Plan, PlanEdge, PlanNode
from flows.events import EventSink, RunEvent
from flows.observe import traced_node, traced_run
from nodes.expressions import is_expression, render_value
from nodes.sdk import (
    ERROR_PORT,
    Clock,
    NodeConfigError,
    NodeContext,
    NodeError,
    NodeSuspended,
    NodeTemporaryError,
    NoSecrets,
    Redactor,
    Secrets,
    SystemClock,
    new_correlation_id,
)
from nodes.services import NodeServices

log = logging.getLogger("maily.engine")

SKIP: Any = object()                # an edge whose source port was not taken
SUSPENDED: Any = object()           # _execute's answer for a node that suspended the run
MAX_RECORDED_BYTES = 64 * 1024      # inputs/outputs larger than this are recorded as a preview
MAX_RETRY_DELAY_S = 300.0


class NodeFailed(Exception):
    """A node failed for good; the run stops."""

    def __init__(self, node_id: str, error: dict[str, Any]):
        super().__init__(f"node {node_id} failed: {error.get('message')}")
        self.node_id = node_id
        self.error = error


class ItemFailed(NodeError):
    """One item of a logic.for_each failed; the for_each node fails with it."""


def capped(value: Any) -> Any:
    """The value as recorded in events and node runs: JSON, and at most MAX_RECORDED_BYTES."""
    try:
        text = json.dumps(value, default=str, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        text = json.dumps(repr(value)[:MAX_RECORDED_BYTES])
    if len(text) <= MAX_RECORDED_BYTES:
        return json.loads(text) if not isinstance(value, (str, int, float, bool, type(None))) else value
    return {"truncated": True, "bytes": len(text), "preview": text[:1024]}


def retry_delays(config: Any, node: PlanNode) -> list[float]:
    """Delay before each retry: exponential from retry_backoff_s, with equal jitter."""
    retries = config.retries if getattr(config, "retries", None) is not None else node.type.spec.default_retries
    base = getattr(config, "retry_backoff_s", 1.0)
    delays = []
    for i in range(retries):
        d = min(base * 2**i, MAX_RETRY_DELAY_S)
        delays.append(d / 2 + random.uniform(0, d / 2))
    return delays


class Emitter:
    """Numbers a run's events and hands them to every sink, in order."""

    def __init__(self, run_id: str, sinks: list[EventSink]):
        self.run_id = run_id
        self.sinks = sinks
        self.seq = 0
        self.ended = False          # the run's terminal event (or waiting / paused) went out
        self.pausing = False        # set by RunManager.pause: the cancellation ends the run paused
        self.stopping = False       # set by RunManager.shutdown: nothing more is recorded, the run resumes at the next start
        # The run's resolved credential secrets (nodes/credentials.py): scrubbed from every event,
        # the last net under the node outputs and errors the engine already scrubs.
        self.redactor = Redactor()

    def __call__(self, kind: str, node_id: str | None = None, attempt: int | None = None,
                 iteration: int | None = None, **data: Any) -> RunEvent:
        self.seq += 1
        event = RunEvent(self.run_id, self.seq, kind, node_id=node_id, attempt=attempt,  # type: ignore[arg-type]
                         iteration=iteration, data=self.redactor.scrub(data))
        self.ended = self.ended or kind in ("run.succeeded", "run.failed", "run.cancelled", "run.waiting",
                                            "run.paused")
        if self.stopping:   # the app is stopping: the record stays as a crash would leave it
            return event
        for sink in self.sinks:
            sink.emit(event)
        return event


Attempt = Callable[[int], Awaitable[dict[str, Any]]]


class DurableRunner(Protocol):
    async def __call__(self, node: PlanNode, iteration: int | None, attempt: Attempt,
                       delays: list[float]) -> dict[str, Any]: ...


@dataclass
class Services:
    """What nodes may touch (see NodeContext); tests hand in loopback servers here."""

    http: Any = None
    clock: Clock = field(default_factory=SystemClock)
    secrets: Secrets = field(default_factory=NoSecrets)
    nodes: NodeServices = field(default_factory=NodeServices.in_memory)   # the app passes its own
    # waits longer than this suspend the run (MAILY_SUSPEND_AFTER_S); None: never suspend
    suspend_after_s: float | None = 30.0


@dataclass
class RunOutcome:
    status: str                              # succeeded | failed | cancelled | waiting | paused
    output: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    waiting: list[dict[str, Any]] = field(default_factory=list)   # status waiting: what it waits on


@dataclass
class _Run:
    plan: Plan
    run_id: str
    payload: Any
    emit: Emitter
    meta: dict[str, Any]
    tenant_id: str
    durable: DurableRunner | None
    # run control (docs/engine.md): outputs of nodes not to execute again, nodes still waiting
    reuse: dict[str, dict[str, Any]] = field(default_factory=dict)
    item_reuse: dict[str, dict[str, Any]] = field(default_factory=dict)   # inside for_each sub-paths: per item
    rewait: dict[str, dict[str, Any]] = field(default_factory=dict)
    waiting: list[dict[str, Any]] = field(default_factory=list)   # nodes that suspended in this pass
    resumed: dict[str, dict[str, Any]] = field(default_factory=dict)   # rewait entries marked `resume`


@dataclass
class _NodeState:
    total: int = 0
    resolved: int = 0
    taken: list[tuple[PlanEdge, Any]] = field(default_factory=list)
    started: bool = False


class Engine:
    def __init__(self, services: Services | None = None):
        self.services = services or Services()

    @traced_run
    async def run(self, plan: Plan, run_id: str, payload: Any, emit: Emitter, *,
                  tenant_id: str = "", meta: dict[str, Any] | None = None,
                  durable: DurableRunner | None = None, started: dict[str, Any] | None = None,
                  reuse: dict[str, dict[str, Any]] | None = None,
                  waiting: dict[str, dict[str, Any]] | None = None) -> RunOutcome:
        """Run the plan; emits run.started and the run's terminal event. Re-raises cancellation.

        `reuse` maps main-path node ids to outputs recorded earlier: those nodes are not
        executed (`node.reused`) and their edges resolve at once (resume, retry, re-run). An
        entry for a node inside a for_each's per-item sub-path (a test run's pin) is that node's
        output in every item: it is reused there, item by item.
        `waiting` maps node ids that still wait to their earlier `node.waiting` data: they
        wait again as soon as they are reached, without executing. A node raising
        NodeSuspended ends the run `waiting` once the nodes already running have finished."""
        given = {k: v for k, v in (reuse or {}).items() if k in plan.nodes}
        run = _Run(plan, run_id, payload, emit, {"id": run_id, **(meta or {})}, tenant_id, durable,
                   reuse={k: v for k, v in given.items() if plan.nodes[k].scope is None},
                   item_reuse={k: v for k, v in given.items() if plan.nodes[k].scope is not None},
                   rewait=dict(waiting or {}))
        emit("run.started", **(started or {}))
        try:
            results = await self._run_scope(run, None, {}, {}, None, None)
        except NodeFailed as failed:
            error = {**failed.error, "node_id": failed.node_id}
            emit("run.failed", error=error)
            return RunOutcome("failed", error=error)
        except asyncio.CancelledError:
            emit("run.paused" if emit.pausing else "run.cancelled")
            raise
        if run.waiting:
            times = [w["resume_at"] for w in run.waiting]
            resume_at = None if None in times else min(times)
            emit("run.waiting", waiting=run.waiting, resume_at=resume_at)
            return RunOutcome("waiting", waiting=run.waiting)
        # the run's output: what the main path's last nodes produced (edges into a for_each's
        # per-item sub-path do not make a node "not last")
        output = {nid: _primary(results[nid]) for nid in plan.scope_nodes(None)
                  if nid in results and all(plan.nodes[e.target].scope is not None for e in plan.nodes[nid].outgoing)}
        emit("run.succeeded", output=capped(output))
        return RunOutcome("succeeded", output=output)

    async def _run_scope(self, run: _Run, scope: str | None, outer: Any, variables: dict[str, Any],
                         item: Any, iteration: int | None) -> dict[str, dict[str, Any]]:
        """Run the nodes of one scope: the main path (scope None) or one item of a for_each."""
        plan = run.plan
        members = plan.scope_nodes(scope)
        member_set = set(members)
        results: dict[str, dict[str, Any]] = {}
        local_exprs: dict[str, Any] = {}
        exprs = local_exprs if scope is None else ChainMap(local_exprs, outer)
        states = {nid: _NodeState() for nid in members}
        entry: list[tuple[PlanEdge, Any]] = []
        for nid in members:
            for edge in plan.nodes[nid].incoming:
                if edge.source in member_set:
                    states[nid].total += 1
                elif scope is not None and edge.source == scope:
                    states[nid].total += 1          # the item port of this scope's for_each
                    entry.append((edge, item))
                # an edge from outside the scope carries a value already known (or none)

        try:
            await self._schedule(_ScopeWalk(self, run, scope, members, member_set, states, results, local_exprs,
                                            exprs, variables, iteration), entry)
        except BaseExceptionGroup as group:
            # TaskGroup wraps the failing node's NodeFailed; the run wants it bare
            failed = [e for e in group.exceptions if isinstance(e, NodeFailed)]
            if failed:
                raise failed[0] from None
            raise
        return results

    async def _schedule(self, walk: "_ScopeWalk", entry: list[tuple[PlanEdge, Any]]) -> None:
        async with asyncio.TaskGroup() as tg:
            walk.tg = tg
            walk.begin(entry)

    @traced_node
    async def _execute(self, run: _Run, node: PlanNode, inputs: dict[str, Any], exprs: Any,
                       variables: dict[str, Any], iteration: int | None) -> dict[str, Any]:
        emit = run.emit
        emit("node.started", node_id=node.id, attempt=1, iteration=iteration, input=capped(inputs))
        scope = {"nodes": exprs, "trigger": run.payload, "run": run.meta,
                 "input": inputs.get("input"), "inputs": inputs, **variables}
        try:
            # Expressions render in a worker thread: one can cost up to its budget of CPU
            # (nodes/expressions.py), and the event loop serves every run and request meanwhile.
            config = (await asyncio.to_thread(_render_config, node, scope) if _has_expressions(node.config)
                      else _render_config(node, scope))
            delays = retry_delays(config, node)
            attempt = self._attempt_fn(run, node, config, inputs, scope, exprs, iteration, delays)
            if node.durable and run.durable is not None:
                out = await run.durable(node, iteration, attempt, delays)
            else:
                out = await self._inline(attempt, delays)
        except asyncio.CancelledError:
            emit("node.cancelled", node_id=node.id, iteration=iteration,
                 **({"reason": "paused"} if emit.pausing else {}))
            raise
        except NodeSuspended as susp:
            data: dict[str, Any] = {"resume_at": susp.resume_at.isoformat() if susp.resume_at else None,
                                    "reason": susp.reason, "details": capped(susp.details)}
            if susp.result is not None:
                data["output"] = capped(susp.result)
            emit("node.waiting", node_id=node.id, iteration=iteration, **data)
            run.waiting.append(_waiting_entry(node, data))
            return SUSPENDED
        except Exception as exc:  # every failure ends here (after the retries): classified, recorded
            error = emit.redactor.scrub(_classify(exc, node))
            if node.on_error == "stop":   # the run stops
                emit("node.failed", node_id=node.id, iteration=iteration, error=error)
                raise NodeFailed(node.id, error) from None
            out = error_outputs(node, error)   # handled: the run goes on with the error as data
            emit("node.failed", node_id=node.id, iteration=iteration, error=error, on_error=node.on_error,
                 output=capped(out))
            return out
        emit("node.succeeded", node_id=node.id, iteration=iteration, output=capped(out))
        return out

    def _attempt_fn(self, run: _Run, node: PlanNode, config: Any, inputs: dict[str, Any], scope: dict[str, Any],
                    exprs: Any, iteration: int | None, delays: list[float]) -> Attempt:
        services = self.services
        timeout = config.timeout_s or node.type.spec.default_timeout_s

        async def run_each(item: Any, index: int) -> Any:
            try:
                res = await self._run_scope(run, node.id, exprs, {"item": item, "index": index}, item, index)
            except NodeFailed as failed:
                raise ItemFailed(f"item {index} failed at node {failed.node_id}: {failed.error.get('message')}")
            sinks = [nid for nid in res if not any(e.target in res for e in run.plan.nodes[nid].outgoing)]
            return _primary(res[sinks[0]]) if len(sinks) == 1 else {nid: _primary(res[nid]) for nid in sinks}

        async def attempt(n: int) -> dict[str, Any]:
            ctx = NodeContext(run_id=run.run_id, node_id=node.id, tenant_id=run.tenant_id,
                              workflow_id=run.meta.get("workflow_id"), attempt=n, http=services.http,
                              clock=services.clock, secrets=services.secrets, scope=scope,
                              services=services.nodes, redactor=run.emit.redactor,
                              run_each=run_each if run.plan.subpaths.get(node.id) else None,
                              suspend_after_s=services.suspend_after_s if iteration is None else None,
                              resumed=run.resumed.get(node.id) if iteration is None else None)
            try:
                out = await asyncio.wait_for(node.type.execute(ctx, config, inputs), timeout)
            except TimeoutError:
                exc: NodeTemporaryError = NodeTemporaryError(f"timed out after {timeout:g} s")
                exc.kind = "timeout"  # type: ignore[attr-defined]
            except NodeTemporaryError as e:
                exc = e
            else:
                # A server that echoes a credential back (a reflected Authorization header) is
                # scrubbed here, before the output reaches the next node, a durable store or a record.
                return _check_outputs(node, run.emit.redactor.scrub(out))
            if n <= len(delays):
                run.emit("node.retrying", node_id=node.id, attempt=n + 1, iteration=iteration,
                         error={"kind": getattr(exc, "kind", "temporary"), "message": exc.message},
                         delay_s=round(delays[n - 1], 3))
                if exc.retry_after and exc.retry_after > delays[n - 1]:
                    # honour Retry-After: the runner adds delays[n-1] after this
                    await services.clock.sleep(min(exc.retry_after, MAX_RETRY_DELAY_S) - delays[n - 1])
            raise exc

        return attempt

    async def _inline(self, attempt: Attempt, delays: list[float]) -> dict[str, Any]:
        n = 1
        while True:
            try:
                return await attempt(n)
            except NodeTemporaryError:
                if n > len(delays):
                    raise
                await self.services.clock.sleep(delays[n - 1])
                n += 1


def error_outputs(node: PlanNode, error: dict[str, Any]) -> dict[str, Any]:
    """A handled failure's outputs: `{"error": {kind, message, node_id}}` on the node's first
    output port (on_error "continue") or on its `error` port, the normal ports not taken ("branch")."""
    value = {"error": {"kind": error.get("kind"), "message": error.get("message"), "node_id": node.id}}
    if node.on_error == "branch":
        return {ERROR_PORT: value}
    first = node.type.spec.outputs[0].name if node.type.spec.outputs else "output"
    return {first: value}


def _waiting_entry(node: PlanNode, data: dict[str, Any]) -> dict[str, Any]:
    return {"node_id": node.id, "node_type": node.type.spec.type, "resume_at": data.get("resume_at"),
            "reason": data.get("reason"), "details": data.get("details") or {}}


def _primary(outputs: dict[str, Any]) -> Any:
    """The value a node is known by in expressions: its first fired output port."""
    return next(iter(outputs.values()), None)


def _ready(node: PlanNode, arrived: int, pending: int) -> bool:
    try:
        config = node.type.config_model.model_validate(node.config)
    except ValidationError:
        return False
    return bool(node.type.ready(config, arrived, pending))  # type: ignore[misc]


def _inputs(node: PlanNode, taken: list[tuple[PlanEdge, Any]]) -> dict[str, Any]:
    ports = {p.name: p for p in node.type.spec.inputs}
    inputs: dict[str, Any] = {}
    for edge, value in taken:
        port = ports.get(edge.target_port)
        if port is not None and port.multiple:
            inputs.setdefault(edge.target_port, []).append(value)
        else:
            inputs[edge.target_port] = value
    return inputs


def _render_config(node: PlanNode, scope: dict[str, Any]) -> Any:
    raw_fields = node.type.spec.raw_config_fields
    rendered = {key: value if key in raw_fields else _render_at(value, scope, f"/{key}", node.id)
                for key, value in node.config.items()}
    try:
        return node.type.config_model.model_validate(rendered)
    except ValidationError as e:
        first = e.errors()[0]
        pointer = "/" + "/".join(str(p) for p in first["loc"])
        raise NodeConfigError(f"{pointer.lstrip('/')}: {first['msg']}", pointer=pointer, node_id=node.id) from None


def _has_expressions(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_expressions(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expressions(v) for v in value)
    return is_expression(value)


def _render_at(value: Any, scope: dict[str, Any], pointer: str, node_id: str) -> Any:
    """Render expressions in value, so that an error points at the very field that has it."""
    if isinstance(value, dict):
        return {k: _render_at(v, scope, f"{pointer}/{k}", node_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_at(v, scope, f"{pointer}/{i}", node_id) for i, v in enumerate(value)]
    if not is_expression(value):
        return value
    try:
        return render_value(value, scope)
    except NodeConfigError as e:
        raise NodeConfigError(e.message, pointer=pointer, node_id=node_id) from None


def _check_outputs(node: PlanNode, out: Any) -> dict[str, Any]:
    names = {p.name for p in node.type.spec.outputs}
    if not isinstance(out, dict) or not set(out) <= names:
        raise TypeError(f"{node.type.spec.type}.execute returned {type(out).__name__} "
                        f"with ports {sorted(out) if isinstance(out, dict) else '-'}, expected some of {sorted(names)}")
    return out


def _classify(exc: Exception, node: PlanNode) -> dict[str, Any]:
    if isinstance(exc, NodeConfigError):
        return {"kind": "config", "message": exc.message, "pointer": exc.pointer}
    if isinstance(exc, NodeTemporaryError):
        return {"kind": getattr(exc, "kind", "temporary"), "message": exc.message}
    if isinstance(exc, ItemFailed):
        return {"kind": "item", "message": str(exc)}
    if isinstance(exc, NodeError) and isinstance(getattr(exc, "kind", None), str):
        # a node's own kind of failure (flow.subworkflow: the child run failed), with its details
        return {**(getattr(exc, "details", None) or {}), "kind": exc.kind,  # type: ignore[attr-defined]
                "message": getattr(exc, "message", str(exc))}
    correlation_id = new_correlation_id()
    log.error("node %s (%s) failed with a bug [correlation_id=%s]", node.id, node.type.spec.type,
              correlation_id, exc_info=exc)
    return {"kind": "bug", "message": f"internal error in {node.type.spec.type}; quote {correlation_id}",
            "correlation_id": correlation_id}


@dataclass
class _ScopeWalk:
    """One walk over a scope's nodes (the main path, or one item of a for_each): edges resolve,
    nodes start when their inputs are in (or a join hook says so), are skipped when no input
    was taken, or reuse an earlier pass's output. Node tasks run in `tg`, set by Engine._schedule."""

    engine: "Engine"
    run: _Run
    scope: str | None
    members: list[str]
    member_set: set[str]
    states: dict[str, _NodeState]
    results: dict[str, dict[str, Any]]
    local_exprs: dict[str, Any]
    exprs: Any
    variables: dict[str, Any]
    iteration: int | None
    tg: asyncio.TaskGroup | None = None

    def begin(self, entry: list[tuple[PlanEdge, Any]]) -> None:
        reuse = self.reuse
        if reuse:
            again = [nid for nid in self.members if nid in reuse]
            for nid in again:               # none of them may start while the others resolve
                self.states[nid].started = True
            for nid in again:               # reused outputs resolve their edges at once
                self.reused(nid)
        for edge, value in entry:
            self.resolve(edge, value)
        for nid in self.members:
            if self.states[nid].total == 0:
                self.consider(nid)

    def resolve(self, edge: PlanEdge, value: Any) -> None:
        st = self.states[edge.target]
        st.resolved += 1
        if value is not SKIP:
            st.taken.append((edge, value))
        self.consider(edge.target)

    def consider(self, nid: str) -> None:
        st = self.states[nid]
        if st.started:
            return
        node = self.run.plan.nodes[nid]
        pending = st.total - st.resolved
        if pending == 0 and not st.taken:
            st.started = True
            if node.type.spec.trigger and self.scope is None:
                self.start(nid, {"payload": self.run.payload})
            else:
                self.skip(nid)
        elif pending == 0 or (node.type.ready and st.taken and _ready(node, len(st.taken), pending)):
            st.started = True
            self.start(nid, _inputs(node, st.taken))

    def skip(self, nid: str) -> None:
        self.run.emit("node.skipped", node_id=nid, iteration=self.iteration)
        for edge in self.run.plan.nodes[nid].outgoing:
            if edge.target in self.member_set:
                self.resolve(edge, SKIP)

    def start(self, nid: str, inputs: dict[str, Any]) -> None:
        run = self.run
        if self.scope is None and nid in run.rewait:
            data = run.rewait[nid]
            if not data.get("resume"):  # still waiting since an earlier pass: wait on
                run.emit("node.waiting", node_id=nid, **data)
                run.waiting.append(_waiting_entry(run.plan.nodes[nid], data))
                return
            # what it waited on has ended (flow.subworkflow: its child run): it executes
            # again, told what it waited on, and gives its result then
            run.resumed[nid] = data
        if self.scope is None and run.waiting:
            return                      # suspending: nothing new starts
        assert self.tg is not None
        self.tg.create_task(self.node_task(nid, inputs), name=f"{run.run_id}:{nid}")

    @property
    def reuse(self) -> dict[str, dict[str, Any]]:
        """The outputs this walk reuses: the main path's, or (an item) those given to every item."""
        return self.run.reuse if self.scope is None else self.run.item_reuse

    def reused(self, nid: str) -> None:
        out = self.reuse[nid]
        self.run.emit("node.reused", node_id=nid, iteration=self.iteration, output=capped(out))
        self.finished(nid, out)

    def finished(self, nid: str, out: dict[str, Any]) -> None:
        self.results[nid] = out
        self.local_exprs[nid] = {"output": _primary(out), "ports": out}
        for edge in self.run.plan.nodes[nid].outgoing:
            if edge.target in self.member_set:
                self.resolve(edge, out.get(edge.source_port, SKIP))

    async def node_task(self, nid: str, inputs: dict[str, Any]) -> None:
        out = await self.engine._execute(self.run, self.run.plan.nodes[nid], inputs, self.exprs, self.variables,
                                         self.iteration)
        if out is not SUSPENDED:
            self.finished(nid, out)
