"""Child runs for flow.subworkflow: the rules every implementation shares.

`ChildRuns.call` checks the call chain (a workflow already on it is a cycle, refused naming the
chain; more than `max_depth` nested calls are refused), loads and compiles the child's graph,
records the child linked to its parent, submits it on the RunManager as a child run and, with
`wait`, gives its output or fails with `SubworkflowFailed` (kind `subworkflow`: the calling
node's `on_error` applies). Cancelling the waiting node cancels the child.

What differs is where workflows and run links live: `MemoryChildRuns` keeps them in memory
(engine tests, embedding); the app's `backend/runs/subworkflows.py` uses the database."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from flows.compile import CompileError, Plan, compile_graph
from flows.engine import RunOutcome
from flows.runner import RunManager
from nodes.registry import NodeRegistry
from nodes.sdk import NodeConfigError, NodeError
from nodes.services import SubworkflowCall, SubworkflowWaiting


class SubworkflowFailed(NodeError):
    """The child run failed or was cancelled, or the call was refused (cycle, depth)."""

    kind = "subworkflow"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True)
class Link:
    """A run as the call chain sees it: its workflow, and the run that called it (None: a root)."""

    workflow_id: str | None
    parent_run_id: str | None


@dataclass(frozen=True)
class Child:
    plan: Plan
    graph: dict[str, Any]
    version: int | None


class ChildRuns:
    def __init__(self, registry: NodeRegistry, *, max_depth: int = 10, runner: RunManager | None = None):
        self.registry = registry
        self.max_depth = max_depth
        self.runner = runner          # set once the app's RunManager exists (it is built after the services)

    # --- what an implementation provides -----------------------------------------------
    async def link(self, run_id: str) -> Link | None:
        raise NotImplementedError

    async def graph(self, call: SubworkflowCall) -> tuple[dict[str, Any], int | None]:
        """The child's graph and published version; NodeConfigError when the workspace has no such workflow."""
        raise NotImplementedError

    async def record(self, call: SubworkflowCall, run_id: str, child: Child) -> None:
        raise NotImplementedError

    async def label(self, tenant_id: str, workflow_id: str | None) -> str:
        return workflow_id or "(unsaved graph)"

    async def outcome(self, tenant_id: str, run_id: str) -> RunOutcome | None:
        """Where an earlier child run stands now (None: it is gone)."""
        raise NotImplementedError

    # --- the shared rules --------------------------------------------------------------
    async def chain(self, call: SubworkflowCall) -> list[str | None]:
        """The workflows of the calling runs, the root's first and the caller's last."""
        chain: list[str | None] = [call.parent_workflow_id]
        link = await self.link(call.parent_run_id)
        while link is not None and link.parent_run_id is not None and len(chain) <= self.max_depth:
            link = await self.link(link.parent_run_id)
            chain.insert(0, link.workflow_id if link is not None else None)
        return chain

    async def call(self, call: SubworkflowCall) -> dict[str, Any]:
        assert self.runner is not None, "ChildRuns.runner is not set"
        if call.child_run_id is not None:   # executing again after its child suspended: take its result
            earlier = await self.outcome(call.tenant_id, call.child_run_id)
            if earlier is None:
                raise SubworkflowFailed(f"sub-workflow run {call.child_run_id} no longer exists",
                                        child_run_id=call.child_run_id)
            return self._result(call.child_run_id, earlier)
        chain = await self.chain(call)
        if call.workflow_id in chain:
            names = [await self.label(call.tenant_id, w) for w in chain[chain.index(call.workflow_id):]]
            loop = " → ".join([*names, await self.label(call.tenant_id, call.workflow_id)])
            raise SubworkflowFailed(f"call cycle refused: {loop}", chain=[*chain, call.workflow_id])
        if len(chain) > self.max_depth:
            raise SubworkflowFailed(f"sub-workflows nest at most {self.max_depth} deep "
                                    "(MAILY_SUBWORKFLOW_MAX_DEPTH)", chain=[*chain, call.workflow_id])
        graph, version = await self.graph(call)
        try:
            plan = compile_graph(graph, self.registry)
        except CompileError as exc:
            raise NodeConfigError(f"workflow {call.workflow_id} cannot run: {exc}", pointer="/workflow_id") from None
        run_id = uuid.uuid4().hex
        await self.record(call, run_id, Child(plan, graph, version))
        task = self.runner.submit(plan, run_id, call.input, tenant_id=call.tenant_id, child=True,
                                  meta={"workflow_id": call.workflow_id, "version": version, "trigger": "subworkflow",
                                        "root_run_id": run_id, "parent_run_id": call.parent_run_id})
        if not call.wait:
            return {"run_id": run_id, "status": "queued"}
        try:
            outcome = await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():      # the parent was cancelled (or paused, or timed out): so is the child
                await asyncio.shield(self.runner.cancel(run_id))
            raise
        return self._result(run_id, outcome)

    @staticmethod
    def _result(run_id: str, outcome: RunOutcome) -> dict[str, Any]:
        if outcome.status == "succeeded":
            return outcome.output
        if outcome.status in ("waiting", "paused", "queued", "running"):
            raise SubworkflowWaiting(run_id)    # the node suspends its run until the child has ended
        error = outcome.error or {}
        message = f"sub-workflow run {run_id} {outcome.status}" + (
            f" at node {error.get('node_id')}: {error.get('message')}" if error.get("message") else "")
        raise SubworkflowFailed(message, child_run_id=run_id, child_status=outcome.status)


class MemoryChildRuns(ChildRuns):
    """Workflows given as {(tenant_id, workflow_id): graph}; run links kept in memory."""

    def __init__(self, registry: NodeRegistry, workflows: dict[tuple[str, str], dict[str, Any]], **kw: Any):
        super().__init__(registry, **kw)
        self.workflows = workflows
        self.links: dict[str, Link] = {}
        self.outcomes: dict[str, RunOutcome] = {}   # where earlier children stand (set by the embedder)

    async def link(self, run_id: str) -> Link | None:
        return self.links.get(run_id)

    async def graph(self, call: SubworkflowCall) -> tuple[dict[str, Any], int | None]:
        graph = self.workflows.get((call.tenant_id, call.workflow_id))
        if graph is None:
            raise NodeConfigError(f"no workflow {call.workflow_id} in this workspace", pointer="/workflow_id")
        return graph, None

    async def record(self, call: SubworkflowCall, run_id: str, child: Child) -> None:
        self.links.setdefault(call.parent_run_id, Link(call.parent_workflow_id, None))
        self.links[run_id] = Link(call.workflow_id, call.parent_run_id)

    async def outcome(self, tenant_id: str, run_id: str) -> RunOutcome | None:
        return self.outcomes.get(run_id)
