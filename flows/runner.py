"""The run manager: starts runs in the background, queues them per tenant, cancels them.

`submit` answers at once; the run waits in its tenant's queue (at most
`max_concurrent_per_tenant` running), then runs on the in-process engine, recorded in Prefect
as a flow run or not, depending on the plan and `prefect_mode`:

    auto    plans with durable nodes (side effects, waits) are recorded as Prefect flow runs;
            purely computational plans are not (their record would cost the Prefect server
            about 60 ms of CPU per run; such a plan gains nothing from it)
    always  every run is recorded as a Prefect flow run
    never   no run touches Prefect

The record is written beside the run (flows/prefect_record.py): a run never waits for Prefect.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from flows.compile import Plan
from flows.engine import Emitter, Engine, RunOutcome, Services
from flows.events import EventSink
from flows.prefect_clients import SharedPrefectClients
from flows.prefect_flow import run_as_prefect_flow
from flows.prefect_record import PrefectRecorder
from flows.prefect_server import PrefectApi

log = logging.getLogger("maily.runner")


@dataclass
class _Queue:
    limit: int
    running: int = 0
    waiting: list[asyncio.Future[None]] = field(default_factory=list)
    running_ids: list[str] = field(default_factory=list)     # in the order they started
    waiting_ids: dict[asyncio.Future[None], str] = field(default_factory=dict)


class RunManager:
    def __init__(self, *, sinks: list[EventSink], services: Services | None = None,
                 prefect: PrefectApi | None = None, prefect_mode: str = "auto",
                 max_concurrent_per_tenant: int = 50, remote: Any = None,
                 prefect_max_flow_runs: int = 16,
                 on_prefect_flow_run: Callable[[str, str], Awaitable[None]] | None = None,
                 max_running: int = 100):
        # production mode: runs execute on workers; `remote` dispatches and follows them
        # (backend/runs/remote.py RemoteRuns: run(run_id, seq_after) -> RunOutcome, cancel(run_id), pause(run_id))
        self.remote = remote
        self.sinks = sinks
        self.engine = Engine(services)
        self.prefect = prefect
        self.prefect_mode = prefect_mode
        self.max_concurrent = max_concurrent_per_tenant
        self._tasks: dict[str, asyncio.Task[RunOutcome]] = {}
        self._emitters: dict[str, Emitter] = {}
        self._queues: dict[str, _Queue] = defaultdict(lambda: _Queue(self.max_concurrent))
        # Admission: at most this many runs executing in the process, whatever the tenants; the
        # rest stay `queued`. A burst past what the cores can run (a thousand campaigns at once
        # on 2 cores) otherwise starts every node at once and they time out starved
        # (docs/benchmarks.md, "Workflow runs through Prefect").
        self._all = _Queue(max(1, max_running))
        self._all_waiting: dict[str, str] = {}     # run id -> tenant id, first in line first
        # Back-pressure: at most this many Prefect API calls in flight in the process, whatever
        # the runs; the records wait in `prefect_record` (its backlog: GET /api/runs/queue),
        # never driving the Prefect server into 503s (docs/benchmarks.md, "workflow runs").
        self._prefect_clients = SharedPrefectClients()
        self.prefect_record = PrefectRecorder(prefect, self._prefect_clients, max_calls=prefect_max_flow_runs,
                                              on_flow_run=on_prefect_flow_run)

    def uses_prefect(self, plan: Plan) -> bool:
        if self.prefect is None or self.prefect_mode == "never":
            return False
        return self.prefect_mode == "always" or plan.needs_prefect

    def submit(self, plan: Plan, run_id: str, payload: Any, *, tenant_id: str = "",
               meta: dict[str, Any] | None = None, reuse: dict[str, dict[str, Any]] | None = None,
               waiting: dict[str, dict[str, Any]] | None = None, seq_after: int = 0,
               child: bool = False) -> asyncio.Task[RunOutcome]:
        """Queue the run and return its task at once; run.queued is its first event.

        A resumed run (same id) passes `seq_after`, its last event's number, and the engine's
        `reuse` / `waiting` (see Engine.run). A `child` run (flow.subworkflow) runs within its
        waiting parent's slot: it takes no place in the tenant's queue nor among the runs executing
        (a parent holding the last slot would wait for it forever), and starts in a context
        of its own, so Prefect does not take it for a part of the parent's task run."""
        emit = Emitter(run_id, self.sinks)
        emit.seq = seq_after
        emit("run.queued", **({"resumed": True} if seq_after else {}))
        engine_kw: dict[str, Any] = {"reuse": reuse or {}, "waiting": waiting or {}}
        if seq_after:
            engine_kw["started"] = {"resumed": True}
        task = asyncio.get_running_loop().create_task(
            self.remote.run(run_id, seq_after=seq_after) if self.remote is not None
            else self._run(plan, run_id, payload, emit, tenant_id, meta or {}, engine_kw, child=child),
            name=f"run:{run_id}", context=contextvars.Context() if child else None)
        self._tasks[run_id] = task
        self._emitters[run_id] = emit

        def done(_t: Any) -> None:
            if self._tasks.get(run_id) is task:
                self._tasks.pop(run_id, None)
                self._emitters.pop(run_id, None)

        task.add_done_callback(done)
        return task

    async def _run(self, plan: Plan, run_id: str, payload: Any, emit: Emitter, tenant_id: str,
                   meta: dict[str, Any], engine_kw: dict[str, Any] | None = None, *, child: bool = False) -> RunOutcome:
        queue = _Queue(1) if child else self._queues[tenant_id]   # a child runs within its parent's slot
        engine_kw = engine_kw or {}
        try:
            await self._acquire(queue, run_id)
        except asyncio.CancelledError:
            emit("run.paused" if emit.pausing else "run.cancelled")
            raise
        running = _Queue(1) if child else self._all   # nor among the runs executing: its parent is one
        self._all_waiting[run_id] = tenant_id
        try:
            await self._acquire(running, run_id)
        except asyncio.CancelledError:
            self._release(queue, run_id)
            emit("run.paused" if emit.pausing else "run.cancelled")
            raise
        finally:
            self._all_waiting.pop(run_id, None)
        queued_seq = emit.seq
        try:
            if self.uses_prefect(plan):
                return await self._run_on_prefect(plan, run_id, payload, emit, tenant_id, meta, engine_kw)
            return await self.engine.run(plan, run_id, payload, emit, tenant_id=tenant_id, meta=meta, **engine_kw)
        except asyncio.CancelledError:
            if not emit.ended:  # cancelled before the engine began
                emit("run.paused" if emit.pausing else "run.cancelled")
            raise
        except Exception as exc:  # the engine records node failures itself; this is the engine failing
            # (Prefect cannot fail a run: its record is written beside it, flows/prefect_record.py)
            log.exception("run %s crashed (bug)", run_id)
            error = {"kind": "bug", "message": f"the run crashed: {exc.__class__.__name__}"}
            if emit.seq == queued_seq:   # nothing after run.queued yet
                emit("run.started")
            if not emit.ended:
                emit("run.failed", error=error)
            return RunOutcome("failed", error=error)
        finally:
            self._release(running, run_id)
            self._release(queue, run_id)

    async def _run_on_prefect(self, plan: Plan, run_id: str, payload: Any, emit: Emitter, tenant_id: str,
                              meta: dict[str, Any], engine_kw: dict[str, Any]) -> RunOutcome:
        """The run starts at once; its Prefect flow run is written beside it (flows/prefect_record.py)."""
        return await run_as_prefect_flow(self.engine, plan, run_id, payload, emit, recorder=self.prefect_record,
                                         tenant_id=tenant_id, meta=meta, **engine_kw)

    async def _acquire(self, queue: _Queue, run_id: str = "") -> None:
        if queue.running < queue.limit and not queue.waiting:
            queue.running += 1
            queue.running_ids.append(run_id)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.waiting.append(waiter)
        queue.waiting_ids[waiter] = run_id
        try:
            await waiter          # _release hands its slot over: running stays counted
        except asyncio.CancelledError:
            queue.waiting_ids.pop(waiter, None)
            if waiter in queue.waiting:
                queue.waiting.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                queue.running_ids.append(run_id)
                self._release(queue, run_id)
            raise
        queue.running_ids.append(run_id)

    def _release(self, queue: _Queue, run_id: str = "") -> None:
        if run_id in queue.running_ids:
            queue.running_ids.remove(run_id)
        while queue.waiting:
            waiter = queue.waiting.pop(0)
            queue.waiting_ids.pop(waiter, None)
            if not waiter.done():
                waiter.set_result(None)
                return
        queue.running -= 1

    def queued(self, tenant_id: str) -> int:
        return len(self.queue_of(tenant_id)[1])

    def queue_of(self, tenant_id: str) -> tuple[list[str], list[str]]:
        """The tenant's running run ids (in start order) and queued ones (first in line first)."""
        queue = self._queues.get(tenant_id)
        if queue is None:
            return [], []
        queued = [queue.waiting_ids[w] for w in queue.waiting if w in queue.waiting_ids and not w.done()]
        # a run holding the tenant's slot but waiting for one of the process's has not started
        held = [r for r, t in self._all_waiting.items() if t == tenant_id]
        return [r for r in queue.running_ids if r not in held], held + queued

    def position(self, tenant_id: str, run_id: str) -> int | None:
        """1 for the next run to start, None when the run is not queued here."""
        queued = self.queue_of(tenant_id)[1]
        return queued.index(run_id) + 1 if run_id in queued else None

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

    async def pause(self, run_id: str) -> bool:
        """Interrupt a queued or running run, ending it `paused` (completed outputs are kept in
        its record; resuming reuses them). True when it was active (production: when the worker
        running it reported it paused)."""
        if self.remote is not None:   # production: the worker running it pauses it, wherever it was started
            return await self.remote.pause(run_id)
        emit = self._emitters.get(run_id)
        if emit is None or run_id not in self._tasks:
            return False
        emit.pausing = True
        return await self.cancel(run_id)

    async def cancel(self, run_id: str, timeout_s: float = 10.0) -> bool:
        """Cancel a queued or running run; True when it was active (production: when the worker
        running it, whichever app replica started it, reported it ended within `timeout_s`)."""
        task = self._tasks.get(run_id)
        if self.remote is not None:
            ended = await self.remote.cancel(run_id, timeout_s)
            if task is not None and not task.done():     # stop following a run no worker reported on
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass
            return ended
        if task is None:
            return False
        task.cancel()
        try:
            await task
        except BaseException:  # cancelled or failed: either way it is over
            pass
        return True

    async def shutdown(self, grace_s: float = 3.0) -> None:
        """Stop following every run. Production: the runs go on on their workers. Embedded: the
        runs are interrupted, all at once, and nothing more is recorded for them, so they stay
        `queued` / `running` in the database and the next start resumes them
        (backend/runs/recovery.py) exactly as after a crash; they are not ended `cancelled`.
        Bounded: a run that has not unwound within `grace_s` is left to the event loop's end."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for run_id, task in list(self._tasks.items()):
            emit = self._emitters.get(run_id)
            if emit is not None and self.remote is None:
                emit.stopping = True
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace_s)
        if self.remote is not None:
            await self.remote.stop()
        try:     # the records of the runs that ended: bounded, a stop never waits on Prefect
            await asyncio.wait_for(self.prefect_record.caught_up(), grace_s)
        except asyncio.TimeoutError:
            log.warning("%d run(s) stop before their Prefect record caught up", self.prefect_record.backlog)
        await self.prefect_record.close()
        await self._prefect_clients.close()
        if self.prefect is not None:
            await self.prefect.stop()
