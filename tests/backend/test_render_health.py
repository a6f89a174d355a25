"""/api/health answers while a workflow's expression is rendering in the same process."""

from __future__ import annotations

import asyncio

from tests.flows.fakes import edge, graph, node
from tests.flows.test_engine import run
from tests.flows.test_render_off_loop import ParkedIterable, _wait_for


async def test_health_answers_while_a_heavy_render_runs(client):
    """A render parked mid-template does not hold the event loop: /api/health answers 200 meanwhile."""
    parked = ParkedIterable()
    doc = graph([node("start", "trigger.manual"),
                 node("a", "data.set", values={"x": "{% for i in trigger.items %}{% endfor %}done"})],
                [edge("start", "a")])
    task = asyncio.create_task(run(doc, {"items": parked}, run_id="r-health"))
    try:
        await _wait_for(parked.started)
        r = await client.get("/api/health")
        assert r.status_code == 200
        assert not task.done()
    finally:
        parked.release.set()
    outcome, _ = await task
    assert outcome.status == "succeeded"
