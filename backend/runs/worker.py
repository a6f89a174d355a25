"""`maily worker`: executes production-mode runs (see backend/runs/remote.py for the app's side).

A warm Prefect task worker (`prefect.task_worker.serve(execute_run)`) subscribes to the
Prefect server's task-run queue over a websocket and starts a run about 0.1 s after the app
enqueued it; a deployment run (serve, process worker) takes 2-9 s and a process per run.

Delivery is at least once, execution at most once per node with side effects:

- **Lease.** A worker executes a run only while it holds `maily:run-lease:<run id>` in
  Redis (SET NX with a TTL of `lease_s`, renewed every lease_s/4 by compare-and-set). A
  worker that loses its lease cancels its copy of the run (fencing).
- **Sweep.** Prefect acknowledges a task run when it hands it to a worker, and does not
  hand it to another when that worker dies. So every worker, every `sweep_s`, looks for
  runs the database says are `running` with no lease (their worker died: SIGKILL, OOM,
  node lost) or `queued` for longer than `queued_grace_s` (Prefect lost or never got the
  hand-over), claims the lease and runs them itself while it has free slots.
- **Reuse.** A worker resuming a run loads its node runs: nodes with side effects or
  waits that already succeeded are not executed again; their recorded outputs are
  replayed. A side-effect node interrupted *during* its call may run again; email.send
  guards that window with its sent-log (nodes/email/mailer.py), http.request sends
  `Idempotency-Key`-style headers only if the workflow sets them.

Events go to the database (RetryingRecorder) and to Redis pub/sub (channel per run); a
terminal event is published only after it is in the database, so an app that sees a run
end on the bus reads the final row.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from backend.db.models import NodeRun, Run, RunEvent as RunEventRow
from backend.db.session import Database
from backend.runs.reuse import EffectsToConfirm, NotResumable, item_pins, next_pass, retry_reuse
from backend.runs.node_services import close_node_services, node_services
from backend.runs.remote import PASS_END, CONTROL_CHANNEL, LEASE_KEY, RedisPublisher, RetryingRecorder, db_retrying
from backend.runs.task import execute_run, serving
from backend.runs.worker_children import attach_worker, worker_child_runs
from flows.compile import Plan, PlanNode, compile_graph
from flows.engine import Attempt, Emitter, Engine, RunOutcome, Services
from flows.events import RunEvent
from flows.prefect_server import configure_environment
from nodes.registry import NodeRegistry, default_registry
from nodes.sdk import NodeTemporaryError

log = logging.getLogger("maily.worker")

# When a resumed run continues, its events skip this many seq numbers: events the dead
# worker published to live subscribers but never recorded can then not collide.
RESUME_SEQ_GAP = 100

_RENEW = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"""
_RELEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"""

_ENGINE_REUSES = "reuse" in inspect.signature(Engine.run).parameters


class RunWorker:
    def __init__(self, db: Database, redis: Any, services: Services | None = None, *,
                 registry: NodeRegistry | None = None, limit: int = 100, lease_s: float = 5.0,
                 sweep_s: float = 1.0, queued_grace_s: float = 10.0):
        self.db = db
        self.redis = redis
        self.engine = Engine(services)
        self.registry = registry or default_registry()
        self.limit = limit
        self.lease_s = lease_s
        self.sweep_s = sweep_s
        self.queued_grace_s = queued_grace_s
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.recorder = RetryingRecorder(db)
        self.publisher = RedisPublisher(redis, self.recorder)
        self.active: dict[str, asyncio.Task[RunOutcome]] = {}
        self._emitters: dict[str, Emitter] = {}
        self._plans: dict[str, Plan] = {}
        self.draining = False                  # stopping (SIGTERM): no new run is taken
        self._busy = 0                         # executions holding a lease
        self._idle = asyncio.Event()
        self._idle.set()

    # -- one run -------------------------------------------------------------------------
    async def execute(self, run_id: str, source: str = "prefect") -> str:
        key = LEASE_KEY + run_id
        if self.draining:        # still `queued`: another worker's sweep takes it after queued_grace_s
            log.warning("run %s delivered while this worker stops; left for another worker", run_id)
            return "draining"
        if not await self.redis.set(key, self.id, nx=True, px=int(self.lease_s * 1000)):
            log.info("run %s is leased by another worker; %s delivery skipped", run_id, source)
            return "leased-elsewhere"
        self._busy += 1
        self._idle.clear()
        try:
            loaded = await self._load(run_id)
            if loaded is None:
                return "gone"
            run, node_rows, (max_seq, last_kind) = loaded
            if run["status"] in PASS_END:     # ended, or waiting / paused until the app resumes it
                return "already-" + run["status"]
            plan = self._plan(run["graph"])
            resumed = run["status"] == "running"     # its worker died: take it over
            # queued with node runs: a waiting or paused run the app resumed (a decision, the
            # resumer, POST /resume); queued without, but retry_of: a retry or re-run
            next_pass_ = run["status"] == "queued" and bool(node_rows)
            done = [r for r in node_rows if r["status"] in ("succeeded", "reused") and r["node_id"] in plan.nodes
                    and isinstance(r["output"], dict) and not r["output"].get("truncated")]
            reuse = {(r["node_id"], r["iteration"]): r["output"] for r in done if plan.nodes[r["node_id"]].durable}
            extra: dict[str, Any] = {}
            self.recorder.register(run_id, run["tenant_id"], {nid: n.type.spec.type for nid, n in plan.nodes.items()})
            self.recorder.seed(run_id, node_rows)
            emit = Emitter(run_id, [self.recorder, self.publisher])
            emit.seq = max(max_seq, 1) + (RESUME_SEQ_GAP if resumed else 0)   # seq 1 is the app's run.queued
            if next_pass_ and last_kind != "run.queued":
                emit.seq += 1     # a sweep came first: leave the app's run.queued of this pass its number
            try:
                if resumed and _ENGINE_REUSES:   # the engine skips every main-path node that succeeded (node.reused)
                    extra["reuse"] = {**item_pins(plan, run.get("reuse")),
                                      **{r["node_id"]: r["output"] for r in done if r["iteration"] is None}}
                elif next_pass_:                 # the same decision the app made (backend/runs/reuse.py)
                    extra["reuse"], extra["waiting"] = next_pass(plan, run["waiting_on"], node_rows,
                                                                 datetime.now(timezone.utc), run.get("reuse"))
                elif run.get("reuse") is not None and run["status"] == "queued":   # the app decided it
                    extra["reuse"] = run["reuse"]
                elif run["retry_of"] and run["status"] == "queued":
                    old = await self._load(run["retry_of"])
                    extra["reuse"] = retry_reuse(plan, old[1], run["rerun_from"],
                                                   first_pass=old[0].get("reuse")) if old is not None else {}
            except (NotResumable, EffectsToConfirm) as exc:
                emit("run.started")
                emit("run.failed", error={"kind": "not_resumable", "message": str(exc)})
                await self.recorder.flush()
                await self.publisher.flush()
                return "failed"
            if resumed:
                log.warning("resuming run %s (%d durable node(s) reused)", run_id, len(reuse))
            meta = {"workflow_id": run["workflow_id"], "version": run["workflow_version"], "trigger": run["trigger"],
                    "root_run_id": run.get("root_run_id") or run_id}
            durable = _reusing(reuse, self.engine) if reuse else None
            coro = self.engine.run(plan, run_id, run["input"], emit, tenant_id=run["tenant_id"], meta=meta,
                                   durable=durable, **extra,
                                   started={"worker": self.id, **({"resumed": True} if resumed or next_pass_ else {})})
            runner = asyncio.get_running_loop().create_task(coro, name=f"run:{run_id}")
            self.active[run_id] = runner
            self._emitters[run_id] = emit
            keeper = asyncio.get_running_loop().create_task(self._keep_lease(key, runner, emit))
            try:
                outcome = await runner
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():    # this worker is stopping: the lease expires, another resumes
                    raise
                outcome = RunOutcome("paused" if emit.pausing else "cancelled")
            finally:
                keeper.cancel()
                self.active.pop(run_id, None)
                self._emitters.pop(run_id, None)
            await self.recorder.flush()
            await self.publisher.flush()
            return outcome.status
        finally:
            try:
                await self.redis.eval(_RELEASE, 1, key, self.id)
            finally:
                self._busy -= 1
                if self._busy == 0:
                    self._idle.set()

    async def stop(self, grace_s: float) -> list[str]:
        """A graceful stop (SIGTERM): take no new run, let the runs in flight finish for up to
        `grace_s`, then hand the others back: interrupted without recording an end (as after a
        crash), their events flushed and their leases released, so another worker's sweep
        resumes them at once, reusing their finished nodes. Returns the run ids handed back."""
        self.draining = True
        if self.active:
            await asyncio.wait(list(self.active.values()), timeout=grace_s)
        handed = []
        for run_id, runner in list(self.active.items()):
            if not runner.done():
                emit = self._emitters.get(run_id)
                if emit is not None:
                    emit.stopping = True
                runner.cancel()
                handed.append(run_id)
        await self._idle.wait()
        if handed:
            log.warning("handed %d run(s) back to the other workers: %s", len(handed), ", ".join(handed))
        return handed

    async def _keep_lease(self, key: str, runner: asyncio.Task[Any], emit: Emitter) -> None:
        every = self.lease_s / 4
        while not runner.done():
            await asyncio.sleep(every)
            try:
                held = await self.redis.eval(_RENEW, 1, key, self.id, int(self.lease_s * 1000))
            except Exception as exc:            # Redis blip: retry until the lease would expire
                log.warning("could not renew the lease %s (%s)", key, exc)
                continue
            if not held:
                log.error("lost the lease %s to another worker; stopping this copy of the run", key)
                emit.sinks = []             # fenced: this copy records nothing more, the new holder owns the run
                runner.cancel()
                return

    async def _load(self, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]], tuple[int, str]] | None:
        """The run's row, its node runs and its last event's (seq, kind)."""
        async for attempt in db_retrying():
            with attempt:
                async with self.db.engine.connect() as conn:
                    run = (await conn.execute(select(Run.__table__).where(Run.id == run_id))).mappings().first()
                    if run is None:
                        return None
                    nodes = (await conn.execute(select(NodeRun.__table__).where(NodeRun.run_id == run_id))).mappings().all()
                    last = (await conn.execute(select(RunEventRow.seq, RunEventRow.kind).where(RunEventRow.run_id == run_id)
                                               .order_by(RunEventRow.seq.desc()).limit(1))).first()
                    return dict(run), [dict(r) for r in nodes], (int(last[0]), last[1]) if last else (0, "")
        return None

    def _plan(self, graph: dict[str, Any]) -> Plan:
        return compile_graph(graph, self.registry)   # cached by the document's hash

    # -- control and sweep ---------------------------------------------------------------
    async def control(self) -> None:
        """Cancel and pause requests from the app: the worker running the run interrupts it
        (pause: marked pausing, so the engine ends it `run.paused` keeping completed nodes)."""
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CONTROL_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    request = json.loads(message["data"])
                    run_id = request.get("cancel") or request.get("pause")
                    runner, emit = self.active.get(run_id), self._emitters.get(run_id)
                    if runner is not None:
                        if "pause" in request and emit is not None:
                            emit.pausing = True
                        runner.cancel()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("control channel lost (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:
                    pass

    async def sweep_once(self) -> list[str]:
        """Claim runs whose worker died (running, no lease) or that Prefect never delivered."""
        free = self.limit - len(self.active)
        if free <= 0 or self.draining:
            return []
        now = datetime.now(timezone.utc)
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(
                select(Run.id, Run.status, Run.created_at).where(Run.status.in_(("queued", "running")))
                .order_by(Run.created_at).limit(1000))).all()
        candidates = []
        for run_id, status, created in rows:
            if status == "queued" and created is not None:
                created = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
                if now - created < timedelta(seconds=self.queued_grace_s):
                    continue
            if run_id not in self.active:
                candidates.append(run_id)
        if not candidates:
            return []
        leases = await self.redis.mget([LEASE_KEY + r for r in candidates])
        orphans = [r for r, lease in zip(candidates, leases) if lease is None][:free]
        for run_id in orphans:
            asyncio.get_running_loop().create_task(self._execute_logged(run_id), name=f"sweep:{run_id}")
        return orphans

    async def _execute_logged(self, run_id: str) -> None:
        try:
            status = await self.execute(run_id, source="sweep")
            if status not in ("leased-elsewhere",):
                log.warning("swept run %s: %s", run_id, status)
        except Exception:
            log.exception("swept run %s crashed", run_id)

    async def sweep(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_s)
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sweep failed (%s)", exc)


def _reusing(reuse: dict[tuple[str, int | None], Any], engine: Engine):
    """A DurableRunner that replays the recorded outputs of durable nodes that already succeeded."""

    async def run(node: PlanNode, iteration: int | None, attempt: Attempt, delays: list[float]) -> dict[str, Any]:
        key = (node.id, iteration)
        if key in reuse and isinstance(reuse[key], dict) and not reuse[key].get("truncated"):
            return reuse[key]
        n = 1
        while True:
            try:
                return await attempt(n)
            except NodeTemporaryError:
                if n > len(delays):
                    raise
                await engine.services.clock.sleep(delays[n - 1])
                n += 1

    return run


async def serve_worker(settings: Any, *, limit: int | None = None) -> None:
    """The worker process: the Prefect task worker, the sweep and the control channel. SIGTERM
    stops it gracefully (RunWorker.stop, within MAILY_WORKER_STOP_GRACE_S), then it exits 0."""
    import redis.asyncio as redis
    from prefect.task_worker import TaskWorker

    configure_environment(settings.data_dir)
    if not os.environ.get("PREFECT_API_URL"):
        raise RuntimeError("maily worker needs PREFECT_API_URL (the Prefect server's /api URL)")
    if not settings.redis_url:
        raise RuntimeError("maily worker needs MAILY_REDIS_URL (live run events and leases go through Redis)")
    db = Database(settings.resolved_database_url)
    r = redis.from_url(settings.redis_url)
    await r.ping()
    registry = default_registry()
    children = worker_child_runs(db, registry, settings.subworkflow_max_depth)   # flow.subworkflow
    services_ = node_services(settings, subworkflows=children)
    worker = RunWorker(db, r, services_, registry=registry, limit=limit or settings.worker_limit,
                       lease_s=settings.worker_lease_s, sweep_s=settings.worker_sweep_s,
                       queued_grace_s=settings.worker_queued_grace_s)
    attach_worker(children, worker)
    background = [asyncio.create_task(worker.control()), asyncio.create_task(worker.sweep())]
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    task_worker = TaskWorker(execute_run, limit=worker.limit)
    # Prefect's own SIGTERM handler exits the process at once (sys.exit in the signal handler),
    # killing the runs in flight; ours starts the graceful stop on the event loop instead
    task_worker.handle_sigterm = lambda *_: loop.call_soon_threadsafe(stopping.set)  # type: ignore[method-assign]
    log.warning("maily worker %s: %d slot(s), Prefect %s", worker.id, worker.limit, os.environ["PREFECT_API_URL"])
    try:
        with serving(worker):
            subscribed = asyncio.create_task(task_worker.astart(), name="prefect-task-worker")
            stop_requested = asyncio.create_task(stopping.wait())
            await asyncio.wait({subscribed, stop_requested}, return_when=asyncio.FIRST_COMPLETED)
            if stopping.is_set():
                log.warning("maily worker %s stopping: %d run(s) in flight, %g s to finish", worker.id,
                            len(worker.active), settings.worker_stop_grace_s)
                await worker.stop(settings.worker_stop_grace_s)
            for task in (subscribed, stop_requested):
                task.cancel()
            ended, _ = await asyncio.gather(subscribed, stop_requested, return_exceptions=True)
            if not stopping.is_set() and isinstance(ended, Exception):
                raise ended            # the task worker failed by itself
    finally:
        for t in background:
            t.cancel()
        await worker.recorder.stop()
        await close_node_services(services_)
        await r.aclose()
        await db.dispose()
