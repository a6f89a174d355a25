"""Node and template renders run in a worker thread: the event loop keeps serving while one renders."""

from __future__ import annotations

import asyncio
import threading

from tests.flows.fakes import edge, graph, node
from tests.flows.test_engine import run


class ParkedIterable:
    """Iterated by a template's {% for %}: signals that the render is under way, then waits
    (at most 10 s) until the test lets it go. On the event loop this would stop the loop."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def __iter__(self):
        self.started.set()
        self.release.wait(10)
        return iter(())


async def _wait_for(event: threading.Event, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.01)):
        if event.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the render never started")


async def test_a_node_config_renders_off_the_event_loop():
    """While a node's expression is rendering, the event loop runs other tasks, and the run then succeeds."""
    parked = ParkedIterable()
    doc = graph([node("start", "trigger.manual"),
                 node("a", "data.set", values={"x": "{% for i in trigger.items %}{% endfor %}done"})],
                [edge("start", "a")])
    task = asyncio.create_task(run(doc, {"items": parked}, run_id="r-off-loop"))
    await _wait_for(parked.started)
    assert not task.done()  # this test's own polling ran while the render was parked in its thread
    parked.release.set()
    outcome, _ = await task
    assert outcome.status == "succeeded" and outcome.output == {"a": {"x": "done"}}


async def test_a_transform_renders_its_items_off_the_event_loop():
    """data.transform's per-item expressions render in a worker thread too."""
    parked = ParkedIterable()
    doc = graph([node("start", "trigger.manual"),
                 node("t", "data.transform", items=[1, 2],
                      operations=[{"op": "map", "fields": {"x": "{% for i in trigger.items %}{% endfor %}{{ item }}"}}])],
                [edge("start", "t")])
    task = asyncio.create_task(run(doc, {"items": parked}, run_id="r-transform"))
    await _wait_for(parked.started)
    assert not task.done()
    parked.release.set()
    outcome, _ = await task
    assert outcome.status == "succeeded" and outcome.output == {"t": [{"x": "1"}, {"x": "2"}]}
