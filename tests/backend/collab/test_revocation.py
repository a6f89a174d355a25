"""Revocation reaches open co-editing sockets (security item 5) over a real uvicorn server."""

from __future__ import annotations

import asyncio

import websockets

from tests.flows.fakes import edge, graph, node
from tests.live_server import closed_with


async def test_revoking_a_token_closes_its_open_collab_socket(live_server, workflow, tenant_a, http):
    """A revoked API token's open co-editing socket is closed with 4401; another token's socket stays open."""
    r = await http.post("/api/auth/tokens", json={"name": "laptop"}, headers=tenant_a.editor.headers)
    assert r.status_code == 201, r.text
    token, token_id = r.json()["token"], r.json()["id"]
    base = f"ws://{live_server}/api/collab/{workflow['id']}?token="
    async with websockets.connect(base + token) as doomed, websockets.connect(base + tenant_a.owner.token) as kept:
        await doomed.recv()  # joined: the server has sent its first sync message
        await kept.recv()
        r = await http.delete(f"/api/auth/tokens/{token_id}", headers=tenant_a.editor.headers)
        assert r.status_code == 204, r.text
        assert await closed_with(doomed) == 4401
        assert doomed.close_reason == "API token revoked"
        await asyncio.wait_for(await kept.ping(), 5)  # still open: a ping is answered


async def test_revoking_a_token_closes_its_open_run_event_socket(live_server, tenant_a, http):
    """A revoked API token's open run-event socket of a still-running run is closed with 4401."""
    r = await http.post("/api/auth/tokens", json={"name": "watcher"}, headers=tenant_a.editor.headers)
    token, token_id = r.json()["token"], r.json()["id"]
    slow = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=25)], [edge("start", "wait")])
    r = await http.post("/api/runs", json={"graph": slow}, headers=tenant_a.editor.headers)
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    try:
        async with websockets.connect(f"ws://{live_server}/api/runs/{run_id}/events?token={token}") as ws:
            await ws.recv()  # streaming: the first event has arrived
            assert (await http.delete(f"/api/auth/tokens/{token_id}", headers=tenant_a.editor.headers)).status_code == 204
            assert await closed_with(ws) == 4401
    finally:
        await http.post(f"/api/runs/{run_id}/cancel", headers=tenant_a.editor.headers)
