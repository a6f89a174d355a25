"""Durability with real processes: a worker SIGKILLed mid-run, database connections dropped
mid-run, the app killed mid-run (embedded mode)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import redis.asyncio as redis

from backend.runs.remote import LEASE_KEY
from tests.flows.fakes import edge, graph, node
from tests.production import cluster
from tests.production.conftest import wait_status


def side_effects(base: str, wait_s: float) -> dict:
    """POST /one, wait, POST /two: two side effects around a wait a worker can die in."""
    return graph([node("start", "trigger.manual"),
                  node("one", "http.request", method="POST", url=f"{base}/one", body={"n": 1}),
                  node("wait", "util.delay", seconds=wait_s),
                  node("two", "http.request", method="POST", url=f"{base}/two", body={"n": 2})],
                 [edge("start", "one"), edge("one", "wait"), edge("wait", "two")], name="side-effects")


async def start_side_effects(client, headers, counter, wait_s: float) -> str:
    """Start side_effects(...) and return its run id once its wait node is running."""
    r = await client.post("/api/runs", json={"graph": side_effects(counter.url, wait_s), "input": {}}, headers=headers)
    assert r.status_code == 202, r.text
    await node_status(client, headers, r.json()["id"], "wait", "running")
    return r.json()["id"]


async def node_status(client, headers, run_id: str, node_id: str, status: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = (await client.get(f"/api/runs/{run_id}", headers=headers)).json()
        if any(n["node_id"] == node_id and n["status"] == status for n in run.get("nodes", [])):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"node {node_id} of run {run_id} not {status} within {timeout} s")


async def test_a_worker_killed_mid_run_is_replaced_and_no_side_effect_runs_twice(prod_app, workers, tenant, counter):
    pool = workers(2)
    h = tenant.editor.headers
    r = await prod_app.post("/api/runs", json={"graph": side_effects(counter.url, 3), "input": {}}, headers=h)
    run_id = r.json()["id"]
    await node_status(prod_app, h, run_id, "wait", "running")
    assert counter.hits["/one"] == 1
    r_ = redis.from_url(cluster.REDIS_URL)
    holder = (await r_.get(LEASE_KEY + run_id)).decode()
    await r_.aclose()
    victim = next(w for w in pool if f":{w.pid}:" in holder)
    victim.kill()                                             # SIGKILL: no cleanup, the lease just expires

    run = await wait_status(prod_app, h, run_id, timeout=30)
    assert run["status"] == "succeeded", run
    assert counter.hits["/one"] == 1, f"the side effect before the crash ran again: {counter.hits}"
    assert counter.hits["/two"] == 1, counter.hits
    events = (await prod_app.get(f"/api/runs/{run_id}/events", headers=h)).json()
    started = [e for e in events if e["kind"] == "run.started"]
    assert len(started) == 2 and started[1]["data"].get("resumed") is True, started
    assert started[0]["data"]["worker"] != started[1]["data"]["worker"]


async def test_dropped_database_connections_mid_run_are_survived(prod_app, workers, prod_db, tenant, counter):
    workers(1)
    h = tenant.editor.headers
    run_id = await start_side_effects(prod_app, h, counter, 1.5)
    dropped = await cluster.terminate_connections(prod_db)    # the app's and the worker's
    assert dropped >= 1
    await asyncio.sleep(0.3)
    await cluster.terminate_connections(prod_db)              # and again while the worker records
    run = await wait_status(prod_app, h, run_id, timeout=30)
    assert run["status"] == "succeeded", run
    assert {n["node_id"]: n["status"] for n in run["nodes"]} == {
        "start": "succeeded", "one": "succeeded", "wait": "succeeded", "two": "succeeded"}
    assert counter.hits == {"/one": 1, "/two": 1}
    seqs = [e["seq"] for e in (await prod_app.get(f"/api/runs/{run_id}/events", headers=h)).json()]
    assert seqs == sorted(seqs) and len(seqs) == 11, seqs   # queued, started, 4 x (started, succeeded), succeeded


async def test_an_app_killed_mid_run_resumes_the_run_at_its_next_start(tmp_path, prod_db, tenant):
    """Embedded mode: runs execute in the app's process; SIGKILL it mid-run and the next start resumes the run."""
    port = cluster_free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILY_")}
    env.update(MAILY_DATABASE_URL=prod_db, MAILY_DATA_DIR=str(tmp_path), MAILY_PREFECT="never",
               MAILY_PREFECT_AT_START="false", MAILY_SECRET_KEY="test-secret-key", MAILY_SCHEDULER_ENABLED="false",
               MAILY_LOG_LEVEL="WARNING")
    log = open(tmp_path / "app.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port)], cwd=cluster.ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    h = tenant.editor.headers
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(600):
                try:
                    if (await client.get("/api/health")).status_code < 500:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            slow = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=3)],
                         [edge("start", "wait")], name="slow")
            r = await client.post("/api/runs", json={"graph": slow, "input": {}}, headers=h)
            assert r.status_code == 202, r.text
            run_id = r.json()["id"]
            await node_status(client, h, run_id, "wait", "running")
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()

    from litestar.testing import AsyncTestClient

    from backend.app import create_app
    from backend.settings import Settings

    app = create_app(Settings(database_url=prod_db, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                              prefect_at_start=False, scheduler_enabled=False))
    async with AsyncTestClient(app=app) as client:   # its start-up resumes the run (backend/runs/recovery.py)
        run = await wait_status(client, h, run_id, timeout=30)
        events = (await client.get(f"/api/runs/{run_id}/events", headers=h)).json()
    assert run["status"] == "succeeded", run
    assert [e["data"]["message"] for e in events if e["kind"] == "run.resumed"] == ["resumed after crash"]
    assert [e["node_id"] for e in events if e["kind"] == "node.reused"] == ["start"]


def cluster_free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
