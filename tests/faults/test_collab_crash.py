"""Co-editing writes before it acknowledges (issue 14): a burst of edits that a second client
has received survives a SIGKILL of the app at that moment; a new client sees all of them."""

from __future__ import annotations

import asyncio
import time

import httpx
from pycrdt import Map

from backend.seed import welcome_graph
from tests.backend.collab.yclient import YClient
from tests.faults.app_process import AppProcess

EDITS = 200


async def _eventually(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not true in time"
        await asyncio.sleep(0.02)


def _labels(client: YClient) -> dict[str, str]:
    nodes = client.doc.get("nodes", type=Map)
    return {nid: nodes[nid]["label"] for nid in nodes.keys() if nid.startswith("burst")}


async def test_a_received_burst_survives_a_sigkill(fault_db, fault_tenant, tmp_path):
    """200 edits a second client has received, then SIGKILL 300 ms later: after a restart a new
    client gets all 200 (none were in the database yet: writes are batched a second)."""
    app = AppProcess(tmp_path, fault_db, MAILY_PREFECT="never")
    app.start()
    editor = fault_tenant.editor
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            await app.wait_health(http, want="off")
            r = await http.post(f"{app.url}/api/workflows", json={"name": "burst", "graph": welcome_graph()},
                                headers=editor.headers)
            assert r.status_code == 201, r.text
            wf = r.json()["id"]
        ws_url = f"ws://127.0.0.1:{app.port}/api/collab/{wf}?token={editor.token}"
        writer, watcher = await YClient(ws_url).connect(), await YClient(ws_url).connect()
        base = welcome_graph()["nodes"][0]
        for i in range(EDITS):
            writer.edit(lambda d, i=i: d.get("nodes", type=Map).__setitem__(
                f"burst{i:03d}", Map({"id": f"burst{i:03d}", "type": base["type"], "type_version": 1,
                                      "label": f"edit {i}", "position": Map({"x": i, "y": 0}), "config": Map({})})))
        await _eventually(lambda: len(_labels(watcher)) == EDITS)   # logged before broadcast: durable now
        app.kill()
        app.start()
        async with httpx.AsyncClient(timeout=30) as http:
            await app.wait_health(http, want="off")
        fresh = await YClient(ws_url).connect()
        assert _labels(fresh) == {f"burst{i:03d}": f"edit {i}" for i in range(EDITS)}
    finally:
        app.stop()
