"""Run events across app replicas (MAILY_REDIS_URL; docs/operations.md).

Every event of a run this process executes is published on the run's Redis channel
(`RedisPublisher`, as `maily worker`s do in production mode), and a run-event WebSocket on a
replica that does not execute the run follows that channel (`stream_elsewhere`): subscribed
first, then what the database holds, then the live events after it. An event published
before the subscription but not recorded yet (the recorder writes every 50 ms) leaves a gap in
the seq numbers: it is read from the database once recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator

from backend.runs import services
from backend.runs.remote import EVENTS_CHANNEL, event_from_wire
from flows.events import PASS_END, RunEvent

GAP_POLL_S = 0.05      # the recorder's write interval
GAP_GIVE_UP_S = 10.0   # an event never recorded (its process died) is skipped after this


def _row_json(run_id: str, e: Any) -> dict[str, Any]:
    return {"run_id": run_id, "seq": e.seq, "kind": e.kind, "status": e.kind.split(".", 1)[1],
            "node_id": e.node_id, "at": e.at.isoformat(), "data": e.data}


def _ends_pass(kind: str) -> bool:
    return kind.startswith("run.") and kind.split(".", 1)[1] in PASS_END


class RunFollower:
    """This replica's view of the run events other processes publish."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url, socket_connect_timeout=3)

    async def close(self) -> None:
        await self.redis.aclose()

    @contextlib.asynccontextmanager
    async def _subscribed(self, run_id: str) -> AsyncIterator[asyncio.Queue[RunEvent]]:
        queue: asyncio.Queue[RunEvent] = asyncio.Queue()
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(EVENTS_CHANNEL + run_id)

        async def pump() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    queue.put_nowait(event_from_wire(message["data"]))
        task = asyncio.create_task(pump(), name=f"run-follow:{run_id}")
        try:
            yield queue
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def stream_elsewhere(self, db: Any, run_id: str) -> AsyncIterator[dict[str, Any]]:
        """The run's events as JSON, in seq order, until the end of its pass: recorded ones,
        then live ones from the replica (or worker) executing it."""
        async with self._subscribed(run_id) as live:
            sent = 0
            async with db.sessionmaker() as s:
                for e in await services.events_of(s, run_id):
                    sent = e.seq
                    yield _row_json(run_id, e)
                    if _ends_pass(e.kind):
                        return
            while True:
                event = await live.get()
                if event.seq <= sent:
                    continue
                waited = 0.0
                while event.seq > sent + 1 and waited < GAP_GIVE_UP_S:   # published before we listened
                    async with db.sessionmaker() as s:
                        missing = [e for e in await services.events_of(s, run_id, after_seq=sent) if e.seq < event.seq]
                    for e in missing:
                        sent = e.seq
                        yield _row_json(run_id, e)
                    if event.seq > sent + 1:
                        await asyncio.sleep(GAP_POLL_S)
                        waited += GAP_POLL_S
                sent = event.seq
                yield event.to_json()
                if _ends_pass(event.kind):
                    return
