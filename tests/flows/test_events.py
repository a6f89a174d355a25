"""EventBus listeners: every event of every run, in order, until removed; a failing one harms nothing."""

from __future__ import annotations

import asyncio

from flows.events import EventBus, RunEvent


def ev(run_id: str, seq: int, kind: str) -> RunEvent:
    return RunEvent(run_id, seq, kind)  # type: ignore[arg-type]


class TestListeners:
    async def test_a_listener_sees_every_event_of_every_run_until_removed(self):
        """Events of two runs reach the listener in emit order; after remove() none do."""
        bus, seen = EventBus(keep_s=0.01), []
        remove = bus.add_listener(lambda e: seen.append((e.run_id, e.seq)))
        for e in (ev("r1", 1, "run.queued"), ev("r2", 1, "run.queued"), ev("r1", 2, "run.succeeded")):
            bus.emit(e)
        assert seen == [("r1", 1), ("r2", 1), ("r1", 2)]
        remove()
        remove()                                   # twice is harmless
        bus.emit(ev("r2", 2, "run.failed"))
        assert seen == [("r1", 1), ("r2", 1), ("r1", 2)]

    async def test_a_failing_listener_does_not_stop_subscribers_or_other_listeners(self):
        """A listener that raises is logged; the run's subscribers and the next listener still get the event."""
        bus, seen = EventBus(keep_s=0.01), []

        def broken(_e: RunEvent) -> None:
            raise RuntimeError("boom")

        bus.add_listener(broken)
        bus.add_listener(lambda e: seen.append(e.kind))
        got: list[str] = []

        async def follow() -> None:
            async for e in bus.subscribe("r1"):
                got.append(e.kind)

        task = asyncio.create_task(follow())
        await asyncio.sleep(0)
        bus.emit(ev("r1", 1, "run.started"))
        bus.emit(ev("r1", 2, "run.succeeded"))
        await asyncio.wait_for(task, 2)
        assert got == seen == ["run.started", "run.succeeded"]
