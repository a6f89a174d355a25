"""/api/runs and the live event stream. Logic lives in services.py."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from litestar import Controller, Request, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import Parameter
from litestar.status_codes import HTTP_202_ACCEPTED
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.deps import authenticate_websocket, socket_refusal
from backend.auth.revocation import REVOKED_CODE, SocketOwner, registry
from backend.auth.origin import origin_allowed
from backend.auth.guards import requires_editor
from backend.auth.schemas import Principal
from backend.db.models import Run
from backend.errors import NotFound
from backend.params import AFTER_SEQ, OFFSET
from backend.runs import control, explorer, recovery, services
from backend.runs.schemas import (ChildRunOut, InterruptedDecisionIn, NodeRunOut, QueueOut, ReplayIn, RerunIn, RunCompareOut,
                                  RunEventOut, RunOut, RunStatus, RunSummaryOut,
                                  StartGraphRunIn, StartWorkflowRunIn)


def _summary(run: Run, position: int | None = None) -> RunSummaryOut:
    return RunSummaryOut(**{k: getattr(run, k, None) for k in RunSummaryOut.model_fields if k != "queue_position"},
                         queue_position=position)


async def _full(s: AsyncSession, run: Run, position: int | None = None) -> RunOut:
    nodes = [NodeRunOut(**{k: getattr(n, k) for k in NodeRunOut.model_fields}) for n in await services.node_runs(s, run.id)]
    fields = {k: getattr(run, k, None) for k in RunOut.model_fields if k not in ("nodes", "queue_position", "children")}
    children = [ChildRunOut(id=c.id, node_id=c.parent_node_id, workflow_id=c.workflow_id, status=c.status,
                            created_at=c.created_at) for c in await services.child_runs(s, run)]
    return RunOut(**fields, nodes=nodes, queue_position=position, children=children)


def _state(request: Request | WebSocket) -> Any:
    return request.app.state


class RunController(Controller):
    path = "/api"
    tags = ["runs"]

    @post("/workflows/{workflow_id:str}/runs", operation_id="startWorkflowRun", guards=[requires_editor],
          status_code=HTTP_202_ACCEPTED)
    async def start_workflow_run(self, request: Request, workflow_id: str, principal: Principal,
                                 db_session: AsyncSession, data: StartWorkflowRunIn | None = None) -> RunSummaryOut:
        """Start a run of a workflow; answers at once with the run id, the run goes on in the background."""
        body = data or StartWorkflowRunIn()
        st = _state(request)
        graph, version = await services.graph_of_workflow(db_session, principal, workflow_id, body.source,
                                                          body.version, st.collab)
        run = await services.start_run(db_session, principal, st.runner, st.recorder, st.registry, graph=graph,
                                       payload=body.input, trigger="api", workflow_id=workflow_id, version=version)
        return _summary(run)

    @post("/runs", operation_id="startGraphRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def start_graph_run(self, request: Request, data: StartGraphRunIn, principal: Principal, db_session: AsyncSession) -> RunSummaryOut:
        """Run a graph sent in the body, without saving it as a workflow."""
        st = _state(request)
        run = await services.start_run(db_session, principal, st.runner, st.recorder, st.registry,
                                       graph=data.graph, payload=data.input, trigger="api")
        return _summary(run)

    @get("/runs", operation_id="listRuns")
    async def list_runs(self, principal: Principal, db_session: AsyncSession,
                        workflow_id: str | None = None, status: RunStatus | None = None,
                        trigger: str | None = Parameter(default=None, max_length=20),
                        since: datetime | None = Parameter(default=None, description="Runs created at or after"),
                        until: datetime | None = Parameter(default=None, description="Runs created before"),
                        q: str | None = Parameter(default=None, max_length=200,
                                                  description="Text in the run's input, output or error, or in a node's output or error"),
                        limit: int = Parameter(default=50, ge=1, le=200),
                        offset: int = OFFSET) -> list[RunSummaryOut]:
        """The tenant's runs across all workflows, newest first, filtered by workflow, status, trigger,
        creation time and text (case-insensitive, 2 to 200 characters)."""
        f = explorer.RunFilter(workflow_id=workflow_id, status=status, trigger=trigger, since=since, until=until, q=q)
        return [_summary(r) for r in await explorer.list_runs(db_session, principal, f, limit=limit, offset=offset)]

    @get("/runs/compare", operation_id="compareRuns")
    async def compare_runs(self, principal: Principal, db_session: AsyncSession,
                           a: str = Parameter(max_length=64), b: str = Parameter(max_length=64)) -> RunCompareOut:
        """Two runs' outputs node by node: each node's status, output and error in run a and in run b."""
        return await explorer.compare(db_session, principal, a, b)

    @get("/runs/queue", operation_id="getRunQueue")
    async def get_queue(self, request: Request, principal: Principal, db_session: AsyncSession) -> QueueOut:
        """The tenant's running runs and its queued ones, each queued run with its queue_position."""
        runner = _state(request).runner
        running, queued = await control.queue(db_session, principal, runner)
        return QueueOut(limit=runner.max_concurrent, running=[_summary(r) for r in running],
                        queued=[_summary(r, n) for r, n in queued], prefect_backlog=runner.prefect_record.backlog)

    @get("/runs/{run_id:str}", operation_id="getRun")
    async def get_run(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession) -> RunOut:
        """One run with its node runs (a queued run with its queue_position)."""
        run = await services.get_run(db_session, principal, run_id)
        return await _full(db_session, run, _state(request).runner.position(principal.tenant_id, run.id))

    @get("/runs/{run_id:str}/events", operation_id="listRunEvents")
    async def list_events(self, run_id: str, principal: Principal, db_session: AsyncSession,
                          after: int = AFTER_SEQ) -> list[RunEventOut]:
        """The run's recorded events after sequence number `after` (for polling clients)."""
        await services.get_run(db_session, principal, run_id)
        rows = await services.events_of(db_session, run_id, after)
        return [RunEventOut(seq=e.seq, kind=e.kind, status=e.kind.split(".", 1)[1], node_id=e.node_id, at=e.at,
                            data=e.data) for e in rows]

    @post("/runs/{run_id:str}/cancel", operation_id="cancelRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def cancel_run(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession) -> RunSummaryOut:
        """Cancel a queued or running run: the running node is interrupted, the run ends cancelled."""
        st = _state(request)
        return _summary(await services.cancel_run(db_session, principal, st.runner, st.recorder, run_id))

    @post("/runs/{run_id:str}/pause", operation_id="pauseRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def pause_run(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession) -> RunSummaryOut:
        """Pause a queued or running run: running nodes are interrupted, completed outputs are kept."""
        st = _state(request)
        return _summary(await control.pause_run(db_session, principal, st.runner, st.recorder, run_id))

    @post("/runs/{run_id:str}/resume", operation_id="resumeRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def resume_run(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession) -> RunSummaryOut:
        """Resume a paused run: completed nodes are reused, interrupted ones run again."""
        st = _state(request)
        return _summary(await control.resume_run(db_session, principal, st.runner, st.recorder, st.registry, run_id))

    @post("/runs/{run_id:str}/interrupted", operation_id="decideInterruptedNode", guards=[requires_editor],
          status_code=HTTP_202_ACCEPTED)
    async def decide_interrupted(self, request: Request, data: InterruptedDecisionIn, run_id: str, principal: Principal,
                                 db_session: AsyncSession) -> RunSummaryOut:
        """Decide on a node a crash interrupted whose side effects are not keyed: run it again, or skip it."""
        return _summary(await recovery.decide_interrupted(db_session, principal, _state(request), run_id, data.node_id,
                                                          data.action))

    @post("/runs/{run_id:str}/approve", operation_id="approveRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def approve_run(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession,
                          node_id: str | None = None, data: Any = None) -> RunSummaryOut:
        """Approve the waiting approval.wait node; the body is its form's data (validated against
        the node's form schema). The run resumes at once on the `approved` branch."""
        return await self._decide(request, run_id, principal, db_session, "approved", node_id, data)

    @post("/runs/{run_id:str}/reject", operation_id="rejectRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def reject_run(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession,
                         node_id: str | None = None, data: Any = None) -> RunSummaryOut:
        """Reject the waiting approval.wait node; the body is its form's data. The run resumes at
        once on the `rejected` branch."""
        return await self._decide(request, run_id, principal, db_session, "rejected", node_id, data)

    async def _decide(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession,
                      decision: str, node_id: str | None, data: Any) -> RunSummaryOut:
        st = _state(request)
        form = {} if data is None else data   # no body: an empty form
        return _summary(await control.decide(db_session, principal, st.runner, st.recorder, st.registry, run_id,
                                             decision, form, node_id))

    @post("/runs/{run_id:str}/replay", operation_id="replayRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def replay_run(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession,
                         data: ReplayIn | None = None) -> RunSummaryOut:
        """A new run with the same input (trigger `replay`): of the graph that ran, or of the workflow's draft now."""
        st = _state(request)
        return _summary(await explorer.replay(db_session, principal, st.runner, st.recorder, st.registry, st.collab,
                                              run_id, (data or ReplayIn()).source))

    @post("/runs/{run_id:str}/retry", operation_id="retryRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def retry_run(self, request: Request, run_id: str, principal: Principal, db_session: AsyncSession) -> RunSummaryOut:
        """A new run of a failed (or cancelled) run's graph and input, reusing every node that succeeded."""
        st = _state(request)
        return _summary(await control.retry_run(db_session, principal, st.runner, st.recorder, st.registry, run_id))

    @post("/runs/{run_id:str}/rerun", operation_id="rerunRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def rerun_run(self, request: Request, data: RerunIn, run_id: str, principal: Principal,
                        db_session: AsyncSession) -> RunSummaryOut:
        """A new run from `from_node`: it and its downstream run again, the rest reuse this run's outputs."""
        st = _state(request)
        return _summary(await control.rerun_from(db_session, principal, st.runner, st.recorder, st.registry, run_id,
                                                 data.from_node, data.repeat))


@websocket("/api/runs/{run_id:str}/events", operation_id="streamRunEvents")
async def stream_run_events(socket: WebSocket, run_id: str) -> None:
    """Live events of a run: what happened so far, then each event as it happens; closes after the last.

    Refusals are final close codes after accept: 4401 not signed in, 4403 origin refused, 4404 no such run."""
    await socket.accept()
    st = _state(socket)
    principal = await authenticate_websocket(socket)
    if principal is None:
        return await socket.close(code=4401, reason="sign in or pass ?token=")
    if not origin_allowed(socket, st.settings.allowed_origin_set):
        return await socket.close(code=4403, reason="origin not allowed")
    try:
        async with st.db.sessionmaker() as s:
            run = await services.get_run(s, principal, run_id)
            follower = getattr(st, "run_follower", None)   # with Redis: a run executing on another replica
            elsewhere = follower is not None and not st.bus.knows(run_id) and run.status in ("queued", "running")
            past = [] if st.bus.knows(run_id) or elsewhere else await services.events_of(s, run_id)
    except NotFound:
        return await socket.close(code=4404, reason="no such run")

    async def stream() -> None:
        try:
            if elsewhere:
                async for message in follower.stream_elsewhere(st.db, run_id):
                    await socket.send_json(message)
            elif past or not st.bus.knows(run_id):
                for e in past:  # the run ended a while ago: its record is complete
                    await socket.send_json({"run_id": run_id, "seq": e.seq, "kind": e.kind, "status": e.kind.split(".", 1)[1],
                                            "node_id": e.node_id, "at": e.at.isoformat(), "data": e.data})
            else:
                async for event in st.bus.subscribe(run_id):
                    await socket.send_json(event.to_json())
            await socket.close(code=1000)
        except WebSocketDisconnect:
            pass

    # The stream runs as its own task so that a revocation can stop it and close the socket.
    streaming = asyncio.create_task(stream())

    async def close_revoked(code: int, reason: str) -> None:
        streaming.cancel()
        await socket.close(code=code, reason=reason)

    try:
        with registry(st).register(SocketOwner(principal.user_id, principal.tenant_id, principal.token_id, principal.session_id,
                                               kind="run"), close_revoked):
            async with st.db.sessionmaker() as s:
                refusal = await socket_refusal(s, principal)   # a revocation since authenticating
            if refusal is not None and refusal[0] == REVOKED_CODE:   # a role change changes nothing here
                await close_revoked(*refusal)
            await asyncio.wait([streaming])
    finally:
        streaming.cancel()  # the handler itself was cancelled (shutdown)
    if not streaming.cancelled():
        streaming.result()  # an unexpected error surfaces as before

