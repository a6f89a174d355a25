"""Production mode, the app's side: runs execute on `maily worker` processes, not in the app.

    app: start_run ─ commit the run row ─▶ RemoteRuns.run(run_id)
              └─ execute_run.with_options(name=f"maily.execute_run:{run_id}").delay()  (a Prefect task run)
    worker (backend/runs/worker.py): Prefect task worker ─▶ Engine ─▶ database + Redis pub/sub
    app: Redis subscriber ─▶ EventBus ─▶ WebSocket streams, RunManager.wait

Only the run id travels through Prefect, as the task run's *name*: the task takes no
parameters, so Prefect stores nothing in its task-scheduling storage (a task with
parameters needs that storage shared between the app and every worker, see
docs/production.md). The worker loads the graph snapshot and input from our database.

The task itself is in backend/runs/task.py. Shared by both sides: the Redis channel names,
RunEvent <-> JSON, and RetryingRecorder (the DbRecorder with its writes retried through
dropped database connections).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from backend.runs.recorder import DbRecorder
from flows.engine import RunOutcome
from flows.events import TERMINAL_RUN, EventBus, RunEvent

try:  # run control: a pass may also end suspended (waiting) or paused
    from flows.events import PASS_END
except ImportError:  # pragma: no cover
    PASS_END = TERMINAL_RUN

log = logging.getLogger("maily.remote")

EVENTS_CHANNEL = "maily:run-events:"          # + run id: every event of the run, as JSON
CONTROL_CHANNEL = "maily:run-control"         # {"cancel": run_id} or {"pause": run_id}
LEASE_KEY = "maily:run-lease:"                # + run id: the worker executing it (expires)


def event_to_wire(event: RunEvent) -> str:
    return json.dumps(event.to_json(), default=str, separators=(",", ":"))


def event_from_wire(raw: str | bytes) -> RunEvent:
    d = json.loads(raw)
    return RunEvent(d["run_id"], d["seq"], d["kind"], at=datetime.fromisoformat(d["at"]), node_id=d.get("node_id"),
                    attempt=d.get("attempt"), iteration=d.get("iteration"), data=d.get("data") or {})


def transient_db_error(exc: BaseException) -> bool:
    """A dropped or refused database connection: worth retrying. A constraint violation is not."""
    if isinstance(exc, (OperationalError, InterfaceError, ConnectionError, OSError)):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or "connection" in str(exc).lower()
    return False


def db_retrying(deadline_s: float = 60.0) -> AsyncRetrying:
    return AsyncRetrying(retry=retry_if_exception(transient_db_error), stop=stop_after_delay(deadline_s),
                         wait=wait_exponential(multiplier=0.05, max=2.0), reraise=True)


class RetryingRecorder(DbRecorder):
    """DbRecorder whose batch writes survive dropped connections (pg_terminate_backend, a
    PostgreSQL restart, a failover): each write is one transaction, retried with backoff
    for up to a minute; pool_pre_ping hands the retry a fresh connection."""

    def __init__(self, db: Any, interval: float = 0.05, deadline_s: float = 60.0):
        super().__init__(db, interval)
        self.deadline_s = deadline_s

    def seed(self, run_id: str, rows: list[dict[str, Any]]) -> None:
        """Node runs already in the database (a run resumed by another worker): update them, never insert twice."""
        info = self._runs[run_id]
        for row in rows:
            info.nodes[(row["node_id"], row["iteration"])] = row

    async def _write(self, batch: list[RunEvent]) -> None:
        async for attempt in db_retrying(self.deadline_s):
            with attempt:
                # DbRecorder._write files new node-run rows under their run before its
                # transaction; a failed transaction must insert them again on the retry
                known = {rid: set(info.nodes) for rid, info in self._runs.items()}
                try:
                    await super()._write(batch)
                except Exception as exc:
                    for rid, keys in known.items():
                        info = self._runs.get(rid)
                        if info is not None:
                            for key in [k for k in info.nodes if k not in keys]:
                                del info.nodes[key]
                    if transient_db_error(exc):
                        log.warning("recording %d run events failed (%s); retrying", len(batch), exc.__class__.__name__)
                    raise


class RedisPublisher:
    """EventSink: publishes each event on the run's channel, in order, from a background task."""

    def __init__(self, redis: Any, recorder: RetryingRecorder):
        self.redis = redis
        self.recorder = recorder
        self._queue: asyncio.Queue[RunEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def emit(self, event: RunEvent) -> None:
        self._queue.put_nowait(event)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="run-event-publisher")

    async def _loop(self) -> None:
        while not self._queue.empty():
            batch = [self._queue.get_nowait() for _ in range(self._queue.qsize())]
            if any(e.kind.startswith("run.") and e.status in PASS_END for e in batch):
                await self.recorder.flush()     # readers who see the end read the final row
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for event in batch:
                        pipe.publish(EVENTS_CHANNEL + event.run_id, event_to_wire(event))
                    await pipe.execute()
            except Exception as exc:  # live streams miss these; the database has them
                log.warning("could not publish %d run events (%s)", len(batch), exc)

    async def flush(self) -> None:
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


class RemoteRuns:
    """The app's handle on runs that execute on workers: dispatch, live events, cancel."""

    def __init__(self, redis_url: str, bus: EventBus, recorder: DbRecorder | None = None):
        if not redis_url:
            raise RuntimeError("MAILY_MODE=production needs MAILY_REDIS_URL: run events come from the workers through Redis")
        self.redis_url = redis_url
        self.bus = bus
        self.recorder = recorder      # recorded this app's run.queued; forgets the run when it ends
        self._redis: Any = None
        self._relay: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(self.redis_url)
        await self._redis.ping()
        # importing Prefect takes a second or two: not on the first run's clock
        await asyncio.to_thread(importlib.import_module, "backend.runs.task")
        self._relay = asyncio.get_running_loop().create_task(self._relay_events(), name="run-event-relay")
        await asyncio.wait_for(self._subscribed.wait(), 10)

    async def _relay_events(self) -> None:
        """Every worker's run events, into this app's EventBus (WebSocket streams, wait)."""
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(EVENTS_CHANNEL + "*")
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    try:
                        event = event_from_wire(message["data"])
                        self.bus.emit(event)
                        if self.recorder is not None and event.kind.startswith("run.") and event.status in PASS_END:
                            # the worker recorded the rest; our recorder only wrote run.queued
                            asyncio.get_running_loop().call_later(5.0, self.recorder._runs.pop, event.run_id, None)
                    except Exception:
                        log.exception("unreadable run event on %s", message.get("channel"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:   # Redis restarted: subscribe again (events meanwhile are in the database)
                log.warning("run event relay lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:
                    pass

    async def run(self, run_id: str, seq_after: int = 0) -> RunOutcome:
        """Dispatch the run to a worker and follow it until the end of this pass.

        A resumed pass (`seq_after`: the last seq of the run's earlier passes) is written out
        first: the worker numbers its events after this app's `run.queued`, read from the
        database. When Prefect cannot take it (API down), the run stays queued in the database
        and a worker's sweep picks it up (backend/runs/worker.py): the database is the truth."""
        events = self.bus.subscribe(run_id, after_seq=seq_after)
        try:
            if seq_after and self.recorder is not None:
                await self.recorder.flush()
            try:
                # lazy: backend.runs.task imports Prefect (about a second), which start() loads off the event loop
                from backend.runs.task import enqueue

                await enqueue(run_id)
            except Exception as exc:
                log.warning("could not hand run %s to Prefect (%s); a worker's sweep will pick it up", run_id, exc)
            async for event in events:
                if event.kind.startswith("run.") and event.status in PASS_END:
                    return RunOutcome(event.status, output=event.data.get("output") or {}, error=event.data.get("error"))
        finally:
            await events.aclose()
        return RunOutcome("failed", error={"kind": "bug", "message": "the run's event stream ended early"})

    async def cancel(self, run_id: str, timeout_s: float = 10.0) -> bool:
        """Ask the worker running the run to cancel it (any app replica may ask); True once its
        pass has ended, False when no worker did within `timeout_s` (none has it)."""
        return await self._ask("cancel", run_id, timeout_s)

    async def pause(self, run_id: str, timeout_s: float = 10.0) -> bool:
        """Ask the worker running the run to pause it; True once its pass has ended (paused, or
        it ended otherwise meanwhile), False when no worker did within `timeout_s`."""
        return await self._ask("pause", run_id, timeout_s)

    async def _ask(self, request: str, run_id: str, timeout_s: float) -> bool:
        events = self.bus.subscribe(run_id, after_seq=self.bus.last_seq(run_id))
        try:
            async with asyncio.timeout(timeout_s):
                await self._redis.publish(CONTROL_CHANNEL, json.dumps({request: run_id}))
                async for event in events:
                    if event.kind.startswith("run.") and event.status in PASS_END:
                        return True
        except TimeoutError:
            return False
        finally:
            await events.aclose()
        return False

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.cancel()
            try:
                await self._relay
            except BaseException:
                pass
        if self._redis is not None:
            await self._redis.aclose()
