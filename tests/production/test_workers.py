"""Production mode: runs execute on `maily worker` processes (Prefect task workers)."""

from __future__ import annotations

import asyncio

from tests.flows.fakes import edge, graph, node
from tests.production.conftest import wait_status

SIMPLE = graph([node("start", "trigger.manual"), node("hello", "data.set", values={"greeting": "Hi {{ trigger.name }}"})],
               [edge("start", "hello")], name="prod-simple")


async def test_a_run_executes_on_a_worker_and_streams_its_events(prod_app, workers, tenant):
    workers(1)
    h = tenant.editor.headers
    r = await prod_app.post("/api/runs", json={"graph": SIMPLE, "input": {"name": "Ada"}}, headers=h)
    assert r.status_code == 202, r.text
    run = await wait_status(prod_app, h, r.json()["id"])
    assert run["status"] == "succeeded", run
    assert run["output"] == {"hello": {"greeting": "Hi Ada"}}
    assert {n["node_id"]: n["status"] for n in run["nodes"]} == {"start": "succeeded", "hello": "succeeded"}
    events = (await prod_app.get(f"/api/runs/{run['id']}/events", headers=h)).json()
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "run.queued" and kinds[-1] == "run.succeeded", kinds
