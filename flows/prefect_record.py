"""A run's record in Prefect, written beside the run instead of around it.

A run recorded in Prefect is one flow run whose task runs are the run's durable nodes, as
Prefect's UI shows them; but the run does not wait for Prefect. The engine starts the nodes
at once and its events (flows/engine.py Emitter) feed a `RunRecord` sink, whose follower
writes, in the order the events happened:

- `run.started`: POST /flow_runs/ created directly `Running` (one call; the flow is looked
  up once per name and process, and the idempotency key makes a retried create return the
  same flow run);
- a durable node's `node.started` / `node.retrying` / end: the task run's states, as the
  `prefect.task-run.*` events Prefect's own task engine sends (Prefect 3 records client-side
  task runs from them, server-side, in its task-run recorder), batched over every run into
  one POST /events every few milliseconds;
- the pass's end: one POST /flow_runs/{id}/set_state, after the run's task-run events are
  in, so Prefect never shows a flow run final with its tasks still running.

A record that lags its run writes what it knows in fewer calls: the flow run is created
directly in its final state (no set_state), and a task run whose end is known gets its final
state only (one event, with the node's start and end times and attempt count, not Running
then Completed). Under load (more runs being recorded than `max_calls`) a run's record waits
for the run's end up to `defer_s` (10 s) before creating its flow run: in a burst most runs
then cost Prefect one call, not two (a third less of its CPU per run: docs/benchmarks.md).
A run recorded while the recorder is light keeps every state as it happens.

Retries, timeouts and exactly-once stay the engine's (flows/engine.py, nodes/email): Prefect
records them. At most `max_calls` Prefect API calls are in flight per process, so a burst
of runs never drives the Prefect server into 503s; a busy (429/503) or restarting server is
waited for, the record catching up later. A run is never held by its record.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter, deque
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from flows.compile import Plan
from flows.events import RunEvent
from flows.prefect_clients import SharedPrefectClients, is_temporary_prefect_failure

log = logging.getLogger("maily.prefect")

MAX_BATCH = 500          # task-run events per POST /events
DEFER_S = 10.0           # under load, a run's flow run waits this long for the run's end
MAX_MESSAGE = 2_000      # characters of an error kept in a Prefect state message

# our pass end -> the flow run's final state (type, name); a waiting run's pass ended as
# Prefect's flow did before: completed, the resumed pass being a new flow run
_FLOW_END = {"run.succeeded": ("COMPLETED", "Completed"), "run.failed": ("FAILED", "Failed"),
             "run.cancelled": ("CANCELLED", "Cancelled"), "run.paused": ("CANCELLED", "Paused"),
             "run.waiting": ("COMPLETED", "Waiting")}
_TASK_END = {"node.succeeded": ("COMPLETED", "Completed"), "node.failed": ("FAILED", "Failed"),
             "node.cancelled": ("CANCELLED", "Cancelled"), "node.waiting": ("PAUSED", "Waiting")}


_TASK_KINDS = frozenset({"node.started", "node.retrying", *_TASK_END})


def _iso(at: datetime) -> str:
    return at.isoformat()


def _message(event: RunEvent) -> str | None:
    """The event's error message as a Prefect state message (capped), or None."""
    return str((event.data.get("error") or {}).get("message", ""))[:MAX_MESSAGE] or None


def _flow_state(end: RunEvent) -> dict[str, Any]:
    """The flow run's final state for the pass's end event."""
    type_, name = _FLOW_END[end.kind]
    return {"type": type_, "name": name, "message": _message(end)}


class PrefectRecorder:
    """The process's writer of Prefect records: one per RunManager. `api` answers `ready()`
    with the Prefect API URL (flows/prefect_server.py PrefectApi); `on_flow_run(run_id,
    flow_run_id)` is told each flow run created (the app stores it on the run's row)."""

    def __init__(self, api: Any, clients: SharedPrefectClients, *, max_calls: int = 16,
                 on_flow_run: Callable[[str, str], Awaitable[None]] | None = None,
                 defer_s: float = DEFER_S):
        self.api = api
        self.clients = clients
        self.on_flow_run = on_flow_run
        self.max_calls = max(1, max_calls)
        self.defer_s = defer_s
        self._calls = asyncio.Semaphore(self.max_calls)
        self._flows: dict[str, str] = {}                  # flow name -> id, on the current server
        self._flow_locks: dict[str, asyncio.Lock] = {}
        self._events: list[dict[str, Any]] = []
        self._queued = 0                                  # events handed in so far
        self._posted = 0                                  # ... and accepted by the server
        self._posted_changed = asyncio.Condition()
        self._poster: asyncio.Task[None] | None = None
        self._records: set[RunRecord] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.calls = 0                                    # API calls made (bench/)

    def follow(self, run_id: str, plan: Plan) -> "RunRecord":
        """A sink for the run's emitter: from its run.started on, the run is recorded in Prefect."""
        return RunRecord(self, run_id, plan)

    @property
    def backlog(self) -> int:
        """Runs whose Prefect record has not caught up yet."""
        return len(self._records)

    @property
    def loaded(self) -> bool:
        """More runs being recorded than Prefect calls allowed in flight: a burst."""
        return len(self._records) > self.max_calls

    async def caught_up(self) -> None:
        """Wait until every record handed in so far is written (or given up)."""
        while self._records:
            self._idle.clear()
            await self._idle.wait()

    async def close(self) -> None:
        for record in list(self._records):
            if record.task is not None:
                record.task.cancel()
        if self._poster is not None:
            self._poster.cancel()

    # -- the API calls ---------------------------------------------------------------------
    async def call(self, method: str, path: str, body: Any) -> Any:
        """One Prefect API call, within the in-flight bound; a busy or restarting server is
        waited for (Prefect's client already retried a 503 a few times). A callable `body` is
        made once the call has its slot, from what is known then."""
        tries = 0
        while True:
            tries += 1
            try:
                api_url = await self.api.ready()
                clients = await self.clients.clients_for(api_url)
                async with self._calls:
                    self.calls += 1
                    payload = body() if callable(body) else body
                    response = await clients.async_client.request(method, path, json=payload)  # type: ignore[arg-type]
                return response.json() if response.content else None
            except Exception as exc:
                if not (is_temporary_prefect_failure(exc) or exc.__class__.__name__ == "PrefectUnavailable"):
                    raise
                if tries > 1 and hasattr(self.api, "report_failure"):
                    self.api.report_failure()
                log.warning("Prefect busy or unreachable on %s %s (%s); trying again", method, path, exc)
                await asyncio.sleep(min(0.25 * 2 ** tries, 8.0))

    async def flow_id(self, name: str) -> str:
        if name not in self._flows:
            async with self._flow_locks.setdefault(name, asyncio.Lock()):
                if name not in self._flows:
                    self._flows[name] = (await self.call("POST", "/flows/", {"name": name}))["id"]
        return self._flows[name]

    def send(self, events: list[dict[str, Any]]) -> int:
        """Queue task-run events for the next batch; returns the count to wait for (`sent`)."""
        self._events.extend(events)
        self._queued += len(events)
        if self._poster is None or self._poster.done():
            self._poster = asyncio.get_running_loop().create_task(self._post_events(), name="prefect-events")
        return self._queued

    async def sent(self, upto: int) -> None:
        async with self._posted_changed:
            await self._posted_changed.wait_for(lambda: self._posted >= upto)

    async def _post_events(self) -> None:
        while self._events:
            await asyncio.sleep(0.005)       # gather what the other runs emit meanwhile
            batch, self._events = self._events[:MAX_BATCH], self._events[MAX_BATCH:]
            try:
                await self.call("POST", "/events", batch)
            except Exception:
                log.exception("Prefect refused %d task-run events; the UI misses them", len(batch))
            async with self._posted_changed:
                self._posted += len(batch)
                self._posted_changed.notify_all()

    def _done(self, record: "RunRecord") -> None:
        self._records.discard(record)
        if not self._records:
            self._idle.set()


class RunRecord:
    """EventSink of one run's pass: its events, written to Prefect in order by one follower task."""

    def __init__(self, recorder: PrefectRecorder, run_id: str, plan: Plan):
        self.recorder = recorder
        self.run_id = run_id
        self.plan = plan
        self.flow_name = f"maily-{plan.name}"[:100] if plan.name else "maily-run"
        self.key = f"{run_id}:{uuid.uuid4().hex}"         # the idempotency key of this pass's flow run
        self.flow_run_id: str | None = None
        self.flow_id: str | None = None
        self.ended = False
        self.created_final = False                        # created in its final state: no set_state
        self.task: asyncio.Task[None] | None = None
        self._pending: deque[RunEvent] = deque()
        self._ended = asyncio.Event()                     # the pass's end has been emitted
        self._end: RunEvent | None = None                 # ... this one
        self._task_ends: Counter[tuple[str, int | None]] = Counter()   # task ends waiting in _pending
        self._tasks: dict[tuple[str, int | None], dict[str, Any]] = {}   # node (and item) -> its task run
        self._last_event = 0

    def emit(self, event: RunEvent) -> None:
        if self.ended or (event.kind == "run.queued"):
            return
        node = self.plan.nodes.get(event.node_id) if event.node_id is not None else None
        if event.node_id is not None and (node is None or not node.durable or event.kind not in _TASK_KINDS):
            return                             # cheap nodes (and reused or skipped ones) live in our record only
        self._pending.append(event)
        if event.kind in _FLOW_END:
            self._end = event
            self._ended.set()
        elif event.kind in _TASK_END:
            self._task_ends[(event.node_id or "", event.iteration)] += 1
        if self.task is None or self.task.done():
            self.recorder._records.add(self)
            self.recorder._idle.clear()
            self.task = asyncio.get_running_loop().create_task(self._follow(), name=f"prefect-record:{self.run_id}")

    async def _follow(self) -> None:
        try:
            while self._pending:
                event = self._pending.popleft()
                if event.kind in _TASK_END:
                    self._task_ends[(event.node_id or "", event.iteration)] -= 1
                try:
                    await self._write(event)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("run %s: Prefect refused its record of %s; the record stops here",
                                  self.run_id, event.kind)
                    self.ended = True
                    self._pending.clear()
                    self._task_ends.clear()
        finally:
            if not self._pending:
                self.recorder._done(self)

    async def _write(self, event: RunEvent) -> None:
        kind = event.kind
        if kind == "run.started":
            await self._create()
        elif self.flow_run_id is None:
            return                             # a pass that began before this record (never here)
        elif kind in _FLOW_END:
            self.ended = True
            if self._last_event:
                await self.recorder.sent(self._last_event)   # the tasks' states first, then the flow's
            if self.created_final:
                return
            await self.recorder.call("POST", f"/flow_runs/{self.flow_run_id}/set_state", {
                "state": {**_flow_state(event), "state_details": {"flow_run_id": self.flow_run_id}}, "force": True})
        elif event.node_id is not None:
            out = self._task_event(event)
            if out is not None:
                self._last_event = self.recorder.send([out])

    def _ends_later(self, key: tuple[str, int | None]) -> bool:
        """Whether this task run's end is already waiting to be written behind this event."""
        return self._task_ends[key] > 0

    async def _create(self) -> None:
        """The flow run, `Running`; or, when the pass has already ended by the time the call
        gets its slot, directly in its final state: one Prefect call and one orchestration
        instead of two. Under load (`PrefectRecorder.loaded`) the create waits up to `defer_s`
        for the pass to end. Prefect stamps both times itself, so such a record's start and
        end are its write time; the nodes keep their own times."""
        if self.recorder.loaded and self.recorder.defer_s > 0:
            # a burst: most runs end within seconds, and a flow run created final costs the
            # Prefect server a third less than one created Running and then ended
            try:
                await asyncio.wait_for(self._ended.wait(), self.recorder.defer_s)
            except asyncio.TimeoutError:
                pass
        self.flow_id = await self.recorder.flow_id(self.flow_name)
        made: dict[str, Any] | None = None

        def body() -> dict[str, Any]:
            nonlocal made
            if made is None:   # decided once: a retried create (same idempotency key) asks the same
                # the pass's end, if already emitted (the record lags the run)
                state = _flow_state(self._end) if self._end is not None else {"type": "RUNNING", "name": "Running"}
                made = {"flow_id": self.flow_id, "name": self.run_id, "idempotency_key": self.key,
                        "tags": ["maily"], "parameters": {}, "state": state}
            return made

        try:
            created = await self.recorder.call("POST", "/flow_runs/", body)
        except Exception:
            self.recorder._flows.pop(self.flow_name, None)   # a Prefect database reset: look it up again
            raise
        self.flow_run_id = str(created["id"])
        self.created_final = made is not None and made["state"]["type"] != "RUNNING"
        if self.recorder.on_flow_run is not None:
            try:
                await self.recorder.on_flow_run(self.run_id, self.flow_run_id)
            except Exception:
                log.exception("run %s: could not note its Prefect flow run %s", self.run_id, self.flow_run_id)

    def _task_event(self, event: RunEvent) -> dict[str, Any] | None:
        """The task-run event for a node's event; None for a state already overtaken by the
        node's end, waiting behind it (a lagging record writes a task run's final state only,
        with the node's start and end times and its attempt count: half the events for
        Prefect's task-run recorder and event persister to store)."""
        key = (event.node_id or "", event.iteration)
        task = self._tasks.get(key)
        if event.kind == "node.started" or task is None:
            node = self.plan.nodes[key[0]]
            task = self._tasks[key] = {
                "id": str(uuid.uuid4()), "run_count": 1, "start": event.at, "previous": None,
                "name": key[0] if event.iteration is None else f"{key[0]}[{event.iteration}]",
                "task_key": f"maily.{node.type.spec.type}", "dynamic_key": f"{key[0]}-{event.iteration}"}
            if event.kind == "node.started":
                return None if self._ends_later(key) else self._state(task, event.at, "RUNNING", "Running", None)
        if event.kind == "node.retrying":
            delay = float(event.data.get("delay_s") or 0)
            out = None if self._ends_later(key) else self._state(
                task, event.at, "SCHEDULED", "AwaitingRetry", _message(event),
                scheduled=event.at + timedelta(seconds=delay))
            task["run_count"] = event.attempt or task["run_count"] + 1
            return out
        if event.kind in _TASK_END:
            type_, name = _TASK_END[event.kind]
            return self._state(task, event.at, type_, name, _message(event), end=event.at)
        return None

    def _state(self, task: dict[str, Any], at: datetime, type_: str, name: str, message: str | None, *,
               scheduled: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
        """The event Prefect's task engine sends for a task run's state change
        (prefect.utilities.engine.emit_task_run_state_change_event), from our event."""
        details: dict[str, Any] = {"scheduled_time": _iso(scheduled)} if scheduled else {}
        previous = task["previous"]
        task["previous"] = (type_, name)
        run: dict[str, Any] = {
            "name": task["name"], "task_key": task["task_key"], "dynamic_key": task["dynamic_key"],
            "run_count": task["run_count"], "start_time": _iso(task["start"]), "tags": ["maily"],
            "flow_run_run_count": 1, "expected_start_time": _iso(task["start"]),
            "empirical_policy": {}, "task_inputs": {}}
        if end is not None:
            run["end_time"] = _iso(end)
            run["total_run_time"] = (end - task["start"]).total_seconds()
        return {
            "id": str(uuid.uuid4()), "occurred": _iso(at), "event": f"prefect.task-run.{name}",
            "resource": {"prefect.resource.id": f"prefect.task-run.{task['id']}",
                         "prefect.resource.name": task["name"], "prefect.run-count": str(task["run_count"]),
                         "prefect.state-message": message or "", "prefect.state-name": name,
                         "prefect.state-timestamp": _iso(at), "prefect.state-type": type_,
                         "prefect.orchestration": "client"},
            "related": [{"prefect.resource.id": f"prefect.flow-run.{self.flow_run_id}",
                         "prefect.resource.role": "flow-run", "prefect.resource.name": self.run_id},
                        {"prefect.resource.id": f"prefect.flow.{self.flow_id}", "prefect.resource.role": "flow",
                         "prefect.resource.name": self.flow_name},
                        {"prefect.resource.id": "prefect.tag.maily", "prefect.resource.role": "tag"}],
            "payload": {"intended": {"from": previous[0] if previous else None, "to": type_},
                        "initial_state": {"type": previous[0], "name": previous[1]} if previous else None,
                        "validated_state": {"type": type_, "name": name, "message": message, "state_details": details,
                                            "data": None},
                        "task_run": run}}
