"""Run events: what the engine reports as a run proceeds.

The engine hands every event to a list of sinks, in order: the database recorder
(backend/runs/recorder.py) and the in-process EventBus that feeds WebSocket subscribers.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Literal, Protocol

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
NodeStatus = Literal["queued", "running", "succeeded", "failed", "skipped", "cancelled"]
TERMINAL_RUN = frozenset({"succeeded", "failed", "cancelled"})

EventKind = Literal[
    "run.queued", "run.started", "run.succeeded", "run.failed", "run.cancelled",
    "node.started", "node.retrying", "node.succeeded", "node.failed", "node.skipped", "node.cancelled",
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
    async def emit(self, event: RunEvent) -> None: ...


class EventBus:
    """In-process fan-out of run events to live subscribers (WebSocket streams)."""

    def __init__(self) -> None:
        self._subs: dict[str, set[asyncio.Queue[RunEvent]]] = defaultdict(set)

    async def emit(self, event: RunEvent) -> None:
        for q in list(self._subs.get(event.run_id, ())):
            q.put_nowait(event)

    async def subscribe(self, run_id: str) -> AsyncIterator[RunEvent]:
        q: asyncio.Queue[RunEvent] = asyncio.Queue()
        self._subs[run_id].add(q)
        try:
            while True:
                event = await q.get()
                yield event
                if event.kind.startswith("run.") and event.status in TERMINAL_RUN:
                    return
        finally:
            self._subs[run_id].discard(q)
            if not self._subs[run_id]:
                self._subs.pop(run_id, None)

    def subscriber_count(self, run_id: str) -> int:
        return len(self._subs.get(run_id, ()))
