"""Runs through the API: start answers at once, node runs are recorded, events stream live,
tenants are isolated, viewers cannot run, bad graphs are refused with every problem."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.backend.conftest import assert_problem
from tests.backend.runs.test_run_control import wait_node
from tests.flows.fakes import edge, graph, node

CHAIN = graph([node("start", "trigger.manual"),
               node("hello", "data.set", values={"greeting": "Hello {{ trigger.name }}"}),
               node("check", "logic.if", condition="{{ trigger.vip }}"),
               node("vip", "data.set", values={"tier": "gold"}),
               node("regular", "data.set", values={"tier": "basic"})],
              [edge("start", "hello"), edge("hello", "check"), edge("check", "vip", "true"),
               edge("check", "regular", "false")], name="runs-api")


async def wait_for_end(client, headers, run_id: str, timeout: float = 20) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        r = await client.get(f"/api/runs/{run_id}", headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("succeeded", "failed", "cancelled"):
            return r.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end within {timeout} s")


async def create_workflow(client, headers, doc=CHAIN) -> str:
    r = await client.post("/api/workflows", json={"name": "wf", "graph": doc}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_starting_a_workflow_run_answers_at_once_and_records_every_node(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await create_workflow(client, h)
    r = await client.post(f"/api/workflows/{wf}/runs", json={"input": {"name": "Ada", "vip": True}}, headers=h)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued" and r.json()["workflow_id"] == wf
    run = await wait_for_end(client, h, r.json()["id"])
    assert run["status"] == "succeeded", run
    nodes = {n["node_id"]: n for n in run["nodes"]}
    assert nodes["hello"]["output"] == {"output": {"greeting": "Hello Ada"}}
    assert nodes["vip"]["status"] == "succeeded" and nodes["regular"]["status"] == "skipped"
    assert all(n["attempts"] == 1 for n in run["nodes"] if n["status"] == "succeeded")
    assert run["output"] == {"vip": {"tier": "gold"}}


async def test_runs_are_listed_with_filters(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await create_workflow(client, h)
    r = await client.post(f"/api/workflows/{wf}/runs", json={"input": {"name": "Bo", "vip": False}}, headers=h)
    await wait_for_end(client, h, r.json()["id"])
    listed = (await client.get(f"/api/runs?workflow_id={wf}&status=succeeded", headers=h)).json()
    assert [x["id"] for x in listed] == [r.json()["id"]]
    assert (await client.get(f"/api/runs?workflow_id={wf}&status=failed", headers=h)).json() == []
    assert_problem(await client.get("/api/runs?status=sleeping", headers=h), 400)
    assert_problem(await client.get("/api/runs/bad%00id", headers=h), 404)


async def test_another_tenants_run_answers_404_and_viewers_cannot_start_runs(client, tenant_a, tenant_b):
    wf = await create_workflow(client, tenant_a.editor.headers)
    r = await client.post(f"/api/workflows/{wf}/runs", json={"input": {"name": "Cy"}}, headers=tenant_a.owner.headers)
    run_id = r.json()["id"]
    await wait_for_end(client, tenant_a.owner.headers, run_id)
    assert_problem(await client.get(f"/api/runs/{run_id}", headers=tenant_b.owner.headers), 404)
    assert_problem(await client.post(f"/api/runs/{run_id}/cancel", headers=tenant_b.owner.headers), 404)
    assert_problem(await client.post(f"/api/workflows/{wf}/runs", json={}, headers=tenant_b.owner.headers), 404)
    assert_problem(await client.post(f"/api/workflows/{wf}/runs", json={}, headers=tenant_a.viewer.headers), 403)
    assert (await client.get(f"/api/runs/{run_id}", headers=tenant_a.viewer.headers)).status_code == 200
    assert run_id not in [x["id"] for x in (await client.get("/api/runs", headers=tenant_b.owner.headers)).json()]


async def test_a_graph_that_cannot_run_is_refused_with_every_problem(client, tenant_a):
    bad = graph([node("a", "data.set"), node("b", "nope.unknown")], [edge("a", "ghost")])
    r = await client.post("/api/runs", json={"graph": bad}, headers=tenant_a.editor.headers)
    doc = assert_problem(r, 422)
    codes = {p["code"] for p in doc["problems"]}
    assert {"no_trigger", "unknown_type", "dangling_edge"} <= codes
    assert any(p.get("node_id") == "b" for p in doc["problems"])


async def test_a_failing_node_fails_the_run_with_the_node_and_field_named(client, tenant_a):
    h = tenant_a.editor.headers
    doc = graph([node("start", "trigger.manual"), node("bad", "data.set", values={"x": "{{ nodes.start.output.a.b }}"})],
                [edge("start", "bad")])
    r = await client.post("/api/runs", json={"graph": doc}, headers=h)
    run = await wait_for_end(client, h, r.json()["id"])
    assert run["status"] == "failed"
    assert run["error"]["node_id"] == "bad" and run["error"]["pointer"] == "/values/x"


async def test_cancel_interrupts_a_running_run(client, tenant_a):
    h = tenant_a.editor.headers
    slow = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=25)], [edge("start", "wait")])
    r = await client.post("/api/runs", json={"graph": slow}, headers=h)
    run_id = r.json()["id"]
    await wait_node(client, h, run_id, "wait")
    r = await client.post(f"/api/runs/{run_id}/cancel", headers=h)
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    run = await wait_for_end(client, h, run_id)
    assert {n["node_id"]: n["status"] for n in run["nodes"]}["wait"] == "cancelled"
    assert_problem(await client.post(f"/api/runs/{run_id}/cancel", headers=h), 409)


async def test_the_event_stream_sends_every_event_then_closes(live_server, tenant_a):
    h = tenant_a.editor.headers
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as client:
        r = await client.post("/api/runs", json={"graph": CHAIN, "input": {"name": "Di", "vip": True}}, headers=h)
        run_id = r.json()["id"]
        kinds = []
        async with connect(f"ws://{live_server}/api/runs/{run_id}/events?token={tenant_a.viewer.token}") as ws:
            async for message in ws:
                kinds.append(json.loads(message)["kind"])
        assert kinds[0] == "run.queued" and kinds[-1] == "run.succeeded"
        assert kinds.count("node.succeeded") == 4 and kinds.count("node.skipped") == 1
        # after the run, the REST list gives the same events from the database
        await wait_for_end(client, h, run_id)
        stored = (await client.get(f"/api/runs/{run_id}/events", headers=h)).json()
        assert [e["kind"] for e in stored] == kinds
        # and a stream opened after the end replays them too
        async with connect(f"ws://{live_server}/api/runs/{run_id}/events", additional_headers=h) as ws:
            assert [json.loads(m)["kind"] async for m in ws] == kinds


async def test_the_event_stream_refuses_strangers_other_tenants_and_foreign_origins(live_server, tenant_a, tenant_b):
    h = tenant_a.editor.headers
    async with httpx.AsyncClient(base_url=f"http://{live_server}") as client:
        run_id = (await client.post("/api/runs", json={"graph": CHAIN}, headers=h)).json()["id"]
    base = f"ws://{live_server}/api/runs/{run_id}/events"
    cases = ((base, {}, 4401), (f"{base}?token={tenant_b.owner.token}", {}, 4404),
             (f"{base}?token={tenant_a.owner.token}", {"Origin": "https://evil.test"}, 4403))
    for url, headers, code in cases:
        async with connect(url, additional_headers=headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd.code == code
