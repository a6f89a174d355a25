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


# -- SIGTERM: a graceful stop -----------------------------------------------------------------

import signal  # noqa: E402

import redis.asyncio as redis  # noqa: E402

from backend.runs.remote import LEASE_KEY  # noqa: E402
from tests.production import cluster  # noqa: E402
from tests.production.test_durability import node_status, side_effects  # noqa: E402


async def _holder(pool, run_id: str):
    r = redis.from_url(cluster.REDIS_URL)
    try:
        holder = (await r.get(LEASE_KEY + run_id)).decode()
    finally:
        await r.aclose()
    return next(w for w in pool if f":{w.pid}:" in holder)


async def _exit_code(worker, timeout: float) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while worker.proc.poll() is None:
        assert loop.time() < deadline, f"the worker did not exit within {timeout} s after SIGTERM"
        await asyncio.sleep(0.05)
    return worker.proc.returncode


async def test_sigterm_lets_the_run_in_flight_finish_then_the_worker_exits_cleanly(prod_app, workers, tenant, counter):
    """SIGTERM mid-run: the worker takes no new run, finishes the one in its wait, records it succeeded and exits 0."""
    (worker,) = workers(1)
    h = tenant.editor.headers
    r = await prod_app.post("/api/runs", json={"graph": side_effects(counter.url, 1.5), "input": {}}, headers=h)
    run_id = r.json()["id"]
    await node_status(prod_app, h, run_id, "wait", "running")
    worker.proc.send_signal(signal.SIGTERM)
    assert await _exit_code(worker, 30) == 0, worker.log_path.read_text()[-3000:]
    run = (await prod_app.get(f"/api/runs/{run_id}", headers=h)).json()
    assert run["status"] == "succeeded", run
    assert counter.hits["/one"] == 1 and counter.hits["/two"] == 1, counter.hits
    assert "stopping: 1 run(s) in flight" in worker.log_path.read_text()


async def test_sigterm_past_the_grace_hands_the_run_to_another_worker_at_once(prod_app, workers, tenant, counter):
    """With a short grace the stopping worker hands its run back (lease released, no end recorded):
    another worker resumes it well before a lease would have expired, and no side effect runs twice."""
    pool = workers(2, MAILY_WORKER_STOP_GRACE_S="0.2", MAILY_WORKER_LEASE_S="30")
    h = tenant.editor.headers
    r = await prod_app.post("/api/runs", json={"graph": side_effects(counter.url, 3), "input": {}}, headers=h)
    run_id = r.json()["id"]
    await node_status(prod_app, h, run_id, "wait", "running")
    victim = await _holder(pool, run_id)
    victim.proc.send_signal(signal.SIGTERM)
    assert await _exit_code(victim, 15) == 0, victim.log_path.read_text()[-3000:]
    run = await wait_status(prod_app, h, run_id, timeout=20)    # < the 30 s lease: handed back, not expired
    assert run["status"] == "succeeded", run
    assert counter.hits["/one"] == 1 and counter.hits["/two"] == 1, counter.hits
    events = (await prod_app.get(f"/api/runs/{run_id}/events", headers=h)).json()
    started = [e for e in events if e["kind"] == "run.started"]
    assert len(started) == 2 and started[1]["data"]["worker"] != started[0]["data"]["worker"]
    assert not any(e["kind"] in ("run.cancelled", "node.cancelled") for e in events)
