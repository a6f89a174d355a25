"""The run manager: starts runs in the background, queues them per tenant, cancels them.

`submit` answers at once; the run waits in its tenant's queue (at most
`max_concurrent_per_tenant` running), then runs on the in-process engine or as a Prefect
flow, depending on the plan and `prefect_mode`:

    auto    plans with durable nodes (side effects, waits) run as Prefect flows;
            purely computational plans run on the in-process engine (a Prefect flow run
            costs about 0.1 s and 150 ms of CPU; such a plan gains nothing from it)
    always  every run is a Prefect flow
    never   no run touches Prefect
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flows.compile import Plan
from flows.engine import Emitter, Engine, RunOutcome, Services
from flows.events import EventSink
from flows.prefect_server import PrefectApi

log = logging.getLogger("maily.runner")


@dataclass
class _Queue:
    limit: int
    running: int = 0
    waiting: list[asyncio.Future[None]] = field(default_factory=list)


class RunManager:
    def __init__(self, *, sinks: list[EventSink], services: Services | None = None,
                 prefect: PrefectApi | None = None, prefect_mode: str = "auto",
                 max_concurrent_per_tenant: int = 50, remote: Any = None):
        # production mode: runs execute on workers; `remote` dispatches and follows them
        # (backend/runs/remote.py RemoteRuns: run(run_id) -> RunOutcome, cancel(run_id))
        self.remote = remote
        self.sinks = sinks
        self.engine = Engine(services)
        self.prefect = prefect
        self.prefect_mode = prefect_mode
        self.max_concurrent = max_concurrent_per_tenant
        self._tasks: dict[str, asyncio.Task[RunOutcome]] = {}
        self._queues: dict[str, _Queue] = defaultdict(lambda: _Queue(self.max_concurrent))

    def uses_prefect(self, plan: Plan) -> bool:
        if self.prefect is None or self.prefect_mode == "never":
            return False
        return self.prefect_mode == "always" or plan.needs_prefect

    def submit(self, plan: Plan, run_id: str, payload: Any, *, tenant_id: str = "",
               meta: dict[str, Any] | None = None) -> asyncio.Task[RunOutcome]:
        """Queue the run and return its task at once; run.queued is its first event."""
        emit = Emitter(run_id, self.sinks)
        emit("run.queued")
        task = asyncio.get_running_loop().create_task(
            self.remote.run(run_id) if self.remote is not None
            else self._run(plan, run_id, payload, emit, tenant_id, meta or {}), name=f"run:{run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(run_id, None))
        return task

    async def _run(self, plan: Plan, run_id: str, payload: Any, emit: Emitter, tenant_id: str,
                   meta: dict[str, Any]) -> RunOutcome:
        queue = self._queues[tenant_id]
        try:
            await self._acquire(queue)
        except asyncio.CancelledError:
            emit("run.cancelled")
            raise
        try:
            if self.uses_prefect(plan):
                from flows.prefect_flow import run_as_prefect_flow

                assert self.prefect is not None
                api_url = await self.prefect.ready()
                return await run_as_prefect_flow(self.engine, plan, run_id, payload, emit, api_url=api_url,
                                                 tenant_id=tenant_id, meta=meta)
            return await self.engine.run(plan, run_id, payload, emit, tenant_id=tenant_id, meta=meta)
        except asyncio.CancelledError:
            if not emit.ended:  # cancelled before the engine began (waiting for Prefect)
                emit("run.cancelled")
            raise
        except Exception as exc:  # the engine records node failures itself; this is the engine failing
            log.exception("run %s crashed", run_id)
            error = {"kind": "bug", "message": f"the run crashed: {exc.__class__.__name__}"}
            if emit.seq == 1:
                emit("run.started")
            emit("run.failed", error=error)
            return RunOutcome("failed", error=error)
        finally:
            self._release(queue)

    async def _acquire(self, queue: _Queue) -> None:
        if queue.running < queue.limit and not queue.waiting:
            queue.running += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.waiting.append(waiter)
        try:
            await waiter          # _release hands its slot over: running stays counted
        except asyncio.CancelledError:
            if waiter in queue.waiting:
                queue.waiting.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                self._release(queue)
            raise

    def _release(self, queue: _Queue) -> None:
        while queue.waiting:
            waiter = queue.waiting.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return
        queue.running -= 1

    def queued(self, tenant_id: str) -> int:
        return len(self._queues[tenant_id].waiting) if tenant_id in self._queues else 0

    def is_active(self, run_id: str) -> bool:
        return run_id in self._tasks

    async def wait(self, run_id: str) -> RunOutcome | None:
        task = self._tasks.get(run_id)
        if task is None:
            return None
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                return RunOutcome("cancelled")
            raise

    async def cancel(self, run_id: str) -> bool:
        """Cancel a queued or running run; True when it was active."""
        task = self._tasks.get(run_id)
        if task is None:
            return False
        if self.remote is not None:   # the worker running it cancels it; its run.cancelled ends our wait
            await self.remote.cancel(run_id)
            try:
                await asyncio.wait_for(asyncio.shield(task), 10)
                return True
            except BaseException:
                pass
        task.cancel()
        try:
            await task
        except BaseException:  # cancelled or failed: either way it is over
            pass
        return True

    async def shutdown(self) -> None:
        for run_id in list(self._tasks):
            if self.remote is not None:     # production: the runs go on on their workers; stop following them
                self._tasks[run_id].cancel()
            else:
                await self.cancel(run_id)
        if self.remote is not None:
            await self.remote.stop()
        if self.prefect is not None:
            await self.prefect.stop()
