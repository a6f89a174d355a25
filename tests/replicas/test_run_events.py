"""Run-event WebSockets on any replica stream runs executing on another (backend/runs/fanout.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import websockets

from tests.flows.fakes import edge, graph, node

SLOW = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=2)], [edge("start", "wait")])


async def test_a_run_on_one_replica_streams_live_on_another(replicas, tenant):
    """A socket on replica 1 for a run executing on replica 0 gets every event in seq order,
    including those that happen after it opened, up to the run's end, then closes."""
    headers = tenant.editor.headers
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"{replicas.apps[0].url}/api/runs", json={"graph": SLOW}, headers=headers)
        assert r.status_code in (200, 201, 202), r.text
        run_id = r.json()["id"]
    url = f"ws://127.0.0.1:{replicas.apps[1].port}/api/runs/{run_id}/events?token={tenant.editor.token}"
    async with websockets.connect(url) as ws:
        opened = datetime.now(timezone.utc)
        seen = [json.loads(message) async for message in ws]   # until the server closes after the last
    assert seen[-1]["kind"] == "run.succeeded"
    assert datetime.fromisoformat(seen[-1]["at"]) > opened    # it happened while the socket was open
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
