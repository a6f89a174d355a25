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
import contextvars
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flows.compile import Plan
from flows.engine import Emitter, Engine, RunOutcome, Services
from flows.events import EventSink
from flows.prefect_clients import SharedPrefectClients, is_temporary_prefect_failure
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
                 max_concurrent_per_tenant: int = 50, remote: Any = None, prefect_attempts: int = 5,
                 prefect_max_flow_runs: int = 16):
        # production mode: runs execute on workers; `remote` dispatches and follows them
        # (backend/runs/remote.py RemoteRuns: run(run_id, seq_after) -> RunOutcome, cancel(run_id), pause(run_id))
        self.remote = remote
        self.sinks = sinks
        self.engine = Engine(services)
        self.prefect = prefect
        self.prefect_mode = prefect_mode
        self.prefect_attempts = prefect_attempts   # tries to start a flow run while the server comes back
        self.max_concurrent = max_concurrent_per_tenant
        self._tasks: dict[str, asyncio.Task[RunOutcome]] = {}
        self._emitters: dict[str, Emitter] = {}
        self._queues: dict[str, _Queue] = defaultdict(lambda: _Queue(self.max_concurrent))
        # Back-pressure: at most this many Prefect flow runs in flight in the process, whatever
        # the tenants; the rest wait here, still `queued` (GET /api/runs/queue), instead of
        # driving the Prefect server into 503s (docs/benchmarks.md, "workflow runs").
        self._prefect_slots = _Queue(max(1, prefect_max_flow_runs))
        self._prefect_waiting: dict[str, str] = {}     # run id -> tenant id, first in line first
        self._prefect_clients = SharedPrefectClients()

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
        waiting parent's slot: it takes no place in the tenant's queue nor among the Prefect flow
        runs (a parent holding the last slot would wait for it forever), and starts in a context
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
        via_prefect, queued_seq = self.uses_prefect(plan), emit.seq
        try:
            if via_prefect:
                return await self._run_on_prefect(plan, run_id, payload, emit, tenant_id, meta, engine_kw, child)
            return await self.engine.run(plan, run_id, payload, emit, tenant_id=tenant_id, meta=meta, **engine_kw)
        except asyncio.CancelledError:
            if not emit.ended:  # cancelled before the engine began (waiting for Prefect)
                emit("run.paused" if emit.pausing else "run.cancelled")
            raise
        except Exception as exc:  # the engine records node failures itself; this is the engine failing
            # through Prefect it is our orchestrator failing (its server gone mid-run), not a bug
            kind = "infrastructure" if via_prefect else "bug"
            log.exception("run %s crashed (%s)", run_id, kind)
            error = {"kind": kind, "message": f"the run crashed: {exc.__class__.__name__}"
                     + ("; the orchestrator (Prefect) failed: retry the run" if via_prefect else "")}
            if emit.seq == queued_seq:   # nothing after run.queued yet
                emit("run.started")
            if not emit.ended:
                emit("run.failed", error=error)
            return RunOutcome("failed", error=error)
        finally:
            self._release(queue, run_id)

    async def _run_on_prefect(self, plan: Plan, run_id: str, payload: Any, emit: Emitter, tenant_id: str,
                              meta: dict[str, Any], engine_kw: dict[str, Any], child: bool = False) -> RunOutcome:
        """A Prefect flow run; when the Prefect API fails before the engine began (its server
        died, the supervisor is restarting it) the run waits for it (bounded) and tries again."""
        # lazy: flows.prefect_flow imports Prefect (about a second); in-process runs never load it
        from flows.prefect_flow import run_as_prefect_flow

        assert self.prefect is not None
        slots = _Queue(1) if child else self._prefect_slots
        self._prefect_waiting[run_id] = tenant_id
        try:
            await self._acquire(slots, run_id)
        finally:
            self._prefect_waiting.pop(run_id, None)
        try:
            first_seq = emit.seq
            for attempt in range(1, self.prefect_attempts + 1):
                api_url = await self.prefect.ready()
                try:
                    return await run_as_prefect_flow(self.engine, plan, run_id, payload, emit, api_url=api_url,
                                                     tenant_id=tenant_id, meta=meta, clients=self._prefect_clients,
                                                     **engine_kw)
                except Exception as exc:
                    if not is_temporary_prefect_failure(exc):   # a 503 is the server busy, not gone
                        self.prefect.report_failure()
                    if emit.seq != first_seq or attempt == self.prefect_attempts:
                        raise     # the engine began: its node runs are recorded, the run ends failed (infrastructure)
                    log.warning("run %s could not start on Prefect (%s); waiting for the server", run_id, exc)
                    await asyncio.sleep(min(0.5 * attempt, 3.0))
            raise AssertionError("unreachable")
        finally:
            self._release(slots, run_id)

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
        # a run holding the tenant's slot but waiting for a Prefect flow-run slot has not started
        for_prefect = [r for r, t in self._prefect_waiting.items() if t == tenant_id]
        held = set(for_prefect)
        return [r for r in queue.running_ids if r not in held], for_prefect + queued

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
        await self._prefect_clients.close()
        if self.prefect is not None:
            await self.prefect.stop()
