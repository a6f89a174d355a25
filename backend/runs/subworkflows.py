"""flow.subworkflow in the app: child runs recorded in the database, linked to their parent.

The rules (call chain, depth, waiting, cancellation) are flows/subworkflows.py's; this adds
where things live: the child's graph is the calling workspace's workflow (another workspace's
id is not found), its run row carries `parent_run_id` / `parent_node_id`, and the call chain is
read back through those links, so a resumed or recovered run sees the same chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.auth.schemas import Principal
from backend.db.models import Run, Workflow
from backend.db.scoped import find_scoped
from backend.errors import ApiError
from backend.runs.services import graph_of_workflow, record_run
from flows.engine import RunOutcome
from flows.subworkflows import Child, ChildRuns, Link
from nodes.sdk import NodeConfigError
from nodes.services import SubworkflowCall


class DbChildRuns(ChildRuns):
    def __init__(self, state: Any, *, max_depth: int) -> None:
        super().__init__(state.registry, max_depth=max_depth)   # `runner` is set once the app's exists
        self.state = state

    def _principal(self, tenant_id: str, user_id: str | None) -> Principal:
        return Principal(user_id=user_id, tenant_id=tenant_id, role="editor", email="",  # type: ignore[arg-type]
                         name="flow.subworkflow")

    async def link(self, run_id: str) -> Link | None:
        async with self.state.db.sessionmaker() as s:
            row = (await s.execute(select(Run.workflow_id, Run.parent_run_id).where(Run.id == run_id))).first()
        return Link(row[0], row[1]) if row is not None else None

    async def label(self, tenant_id: str, workflow_id: str | None) -> str:
        if workflow_id is None:
            return "(unsaved graph)"
        async with self.state.db.sessionmaker() as s:
            name = await s.scalar(select(Workflow.name).where(Workflow.id == workflow_id,
                                                              Workflow.tenant_id == tenant_id))
        return f"{name} ({workflow_id[:8]})" if name else workflow_id

    async def outcome(self, tenant_id: str, run_id: str) -> RunOutcome | None:
        async with self.state.db.sessionmaker() as s:
            run = await find_scoped(s, Run, tenant_id, run_id)
        if run is None:
            return None
        return RunOutcome(run.status, output=run.output or {}, error=run.error, waiting=run.waiting_on or [])

    async def graph(self, call: SubworkflowCall) -> tuple[dict[str, Any], int | None]:
        async with self.state.db.sessionmaker() as s:
            try:
                return await graph_of_workflow(s, self._principal(call.tenant_id, None), call.workflow_id,
                                               call.source, None, self.state.collab)
            except ApiError as exc:   # not found (another workspace's, deleted), or never published
                raise NodeConfigError(exc.detail, pointer="/workflow_id") from None

    async def record(self, call: SubworkflowCall, run_id: str, child: Child) -> None:
        async with self.state.db.sessionmaker() as s:
            created_by = await s.scalar(select(Run.created_by).where(Run.id == call.parent_run_id))
            await record_run(s, self._principal(call.tenant_id, created_by), self.state.recorder, child.plan, run_id,
                             graph=child.graph, payload=call.input, trigger="subworkflow",
                             workflow_id=call.workflow_id, version=child.version,
                             parent=(call.parent_run_id, call.parent_node_id))
