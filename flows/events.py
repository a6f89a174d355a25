"""Run events: what the engine reports as a run proceeds.

The engine hands every event to a list of sinks, in order: the database recorder
(backend/runs/recorder.py) and the in-process EventBus that feeds WebSocket subscribers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Callable, Literal, Protocol

log = logging.getLogger("maily.events")

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "waiting", "paused"]
NodeStatus = Literal["queued", "running", "succeeded", "failed", "skipped", "cancelled", "waiting"]
TERMINAL_RUN = frozenset({"succeeded", "failed", "cancelled"})
# A run's pass ends with a terminal status, or suspended (waiting) or paused: nothing of it
# runs any more until it is resumed (a new pass of the same run id, numbering on).
PASS_END = TERMINAL_RUN | {"waiting", "paused"}

EventKind = Literal[
    "run.queued", "run.started", "run.succeeded", "run.failed", "run.cancelled", "run.waiting", "run.paused",
    "node.started", "node.retrying", "node.succeeded", "node.failed", "node.skipped", "node.cancelled",
    "node.waiting", "node.reused",
]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RunEvent:
    run_id: str
    seq: int                          # 1, 2, 3... per run, in the order they happened
    kind: EventKind
    at: datetime = field(default_factory=utcnow)
    node_id: str | None = None
    attempt: int | None = None
    # Index of the item inside a logic.for_each sub-path; None on the main path.
    iteration: int | None = None
    # node.started: {"input": ...}; node.succeeded: {"output": ...};
    # *.failed: {"error": {"kind": "config"|"temporary"|"bug"|"timeout", "message", "pointer", "correlation_id"}}
    # (values size-capped by the engine)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.kind.split(".", 1)[1]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        d["status"] = self.status
        return d


class EventSink(Protocol):
    # Synchronous on purpose: the engine emits from tight scheduling code; a sink that
    # does I/O (the database recorder) buffers and writes in the background.
    def emit(self, event: RunEvent) -> None: ...


class EventBus:
    """In-process fan-out of run events to live subscribers (WebSocket streams).

    It keeps each run's events while the run is live and for `keep_s` after it ends, so
    a subscriber that joins late replays what it missed without racing the database.

    Listeners (`add_listener`) see every event of every run, synchronously, after the run's
    subscribers: the chain trigger listens for runs ending this way."""

    def __init__(self, keep_s: float = 60.0) -> None:
        self._subs: dict[str, set[asyncio.Queue[RunEvent]]] = defaultdict(set)
        self._history: dict[str, list[RunEvent]] = {}
        self._keep_s = keep_s
        self._listeners: list[Callable[[RunEvent], None]] = []

    def add_listener(self, listener: Callable[[RunEvent], None]) -> Callable[[], None]:
        """Call `listener(event)` for every event from now on; returns a function that removes it.
        A listener must not block (start a task for I/O); one that raises is logged and kept."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
        return remove

    def emit(self, event: RunEvent) -> None:
        self._history.setdefault(event.run_id, []).append(event)
        for q in list(self._subs.get(event.run_id, ())):
            q.put_nowait(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the run's events
                log.exception("run event listener %r failed on %s of run %s", listener, event.kind, event.run_id)
        if event.kind.startswith("run.") and event.status in PASS_END:
            asyncio.get_running_loop().call_later(self._keep_s, self._expire, event.run_id, event.seq)

    def _expire(self, run_id: str, seq: int) -> None:
        history = self._history.get(run_id)
        if history and history[-1].seq == seq:   # not resumed since: forget it
            self._history.pop(run_id, None)

    def knows(self, run_id: str) -> bool:
        return run_id in self._history

    def last_seq(self, run_id: str) -> int:
        """The seq of the run's latest event the bus keeps; 0 when it keeps none."""
        history = self._history.get(run_id)
        return history[-1].seq if history else 0

    async def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncIterator[RunEvent]:
        """Events of the run with seq > after_seq: the kept history first, then live ones,
        ending after the run's terminal event."""
        q: asyncio.Queue[RunEvent] = asyncio.Queue()
        self._subs[run_id].add(q)
        try:
            for event in list(self._history.get(run_id, ())):
                q.put_nowait(event)
            while True:
                event = await q.get()
                if event.seq <= after_seq:
                    continue
                after_seq = event.seq
                yield event
                if event.kind.startswith("run.") and event.status in PASS_END:
                    history = self._history.get(run_id) or [event]
                    if history[-1].seq <= event.seq:   # a resumed run's earlier pass does not end the stream
                        return
        finally:
            self._subs[run_id].discard(q)
            if not self._subs[run_id]:
                self._subs.pop(run_id, None)

    def subscriber_count(self, run_id: str) -> int:
        return len(self._subs.get(run_id, ()))
