"""Revocation fan-out over Redis (channel maily:revocations): two app instances, two live uvicorn
servers on one database; a removal, a token revocation or a sign-out answered by A closes the
matching socket open on B with 4401 (a role change: 4000), and leaves the others open."""

from __future__ import annotations

import asyncio
import os
from typing import AsyncIterator

import httpx
import pytest
import websockets

from backend.app import create_app
from backend.auth.revocation import CHANNEL
from backend.seed import welcome_graph
from tests.live_server import browser, closed_with, cookie_socket
from tests.live_server import serving

REDIS_URL = os.environ.get("MAILY_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
async def replicas(settings) -> AsyncIterator[tuple[str, str]]:
    """Two app instances sharing the test database and MAILY_REDIS_URL."""
    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    async with serving(create_app(shared)) as a, serving(create_app(shared)) as b:
        yield a, b


async def _workflow(server: str, member) -> str:
    async with httpx.AsyncClient(base_url=f"http://{server}", timeout=10) as c:
        r = await c.post("/api/workflows", json={"name": "shared", "graph": welcome_graph()}, headers=member.headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]


async def test_a_removal_on_a_closes_the_members_socket_on_b(replicas, tenant_a):
    """The owner removes the editor through A; the editor's co-editing socket on B closes with 4401, the viewer's stays."""
    a, b = replicas
    wf = await _workflow(a, tenant_a.owner)
    async with websockets.connect(f"ws://{b}/api/collab/{wf}?token={tenant_a.editor.token}") as doomed, \
            websockets.connect(f"ws://{b}/api/collab/{wf}?token={tenant_a.viewer.token}") as kept:
        await doomed.recv()
        await kept.recv()
        async with httpx.AsyncClient(base_url=f"http://{a}", timeout=10) as c:
            r = await c.delete(f"/api/members/{tenant_a.editor.user_id}", headers=tenant_a.owner.headers)
            assert r.status_code == 204, r.text
        assert await closed_with(doomed) == 4401 and doomed.close_reason == "removed from workspace"
        await asyncio.wait_for(await kept.ping(), 5)


async def test_a_token_revoked_and_a_sign_out_on_a_close_sockets_on_b(replicas, tenant_a):
    """Revoking an API token through A closes its socket on B; signing out on A closes that session's socket on B."""
    a, b = replicas
    wf = await _workflow(a, tenant_a.owner)
    on_a = await browser(a, tenant_a.viewer)
    try:
        r = await on_a.post("/api/auth/tokens", json={"name": "elsewhere"})
        token, token_id = r.json()["token"], r.json()["id"]
        async with websockets.connect(f"ws://{b}/api/collab/{wf}?token={token}") as by_token, \
                cookie_socket(b, f"/api/collab/{wf}", on_a) as by_cookie:
            await by_token.recv()
            await by_cookie.recv()
            assert (await on_a.delete(f"/api/auth/tokens/{token_id}")).status_code == 204
            assert await closed_with(by_token) == 4401
            await asyncio.wait_for(await by_cookie.ping(), 5)
            assert (await on_a.post("/api/auth/logout")).status_code == 204
            assert await closed_with(by_cookie) == 4401
    finally:
        await on_a.aclose()


async def test_a_malformed_message_on_the_channel_does_not_stop_the_listener(replicas, tenant_a):
    """Garbage published on maily:revocations is ignored (nothing closes); a real revocation after it still arrives."""
    import redis.asyncio as aioredis

    a, b = replicas
    wf = await _workflow(a, tenant_a.owner)
    async with websockets.connect(f"ws://{b}/api/collab/{wf}?token={tenant_a.editor.token}") as ws:
        await ws.recv()
        client = aioredis.from_url(REDIS_URL)
        try:
            for junk in ("not json", "[1, 2]", '{"user_id": 5}', "{}", '{"reason": "x"}', b"\xff") * 10:
                await client.publish(CHANNEL, junk)   # none of them may hold up the revocation below
        finally:
            await client.aclose()
        await asyncio.wait_for(await ws.ping(), 5)
        async with httpx.AsyncClient(base_url=f"http://{a}", timeout=10) as c:
            assert (await c.delete(f"/api/members/{tenant_a.editor.user_id}",
                                   headers=tenant_a.owner.headers)).status_code == 204
        assert await closed_with(ws) == 4401


async def test_a_role_change_on_a_reconnects_the_collab_socket_on_b(replicas, tenant_a):
    """Demoting the editor through A closes their co-editing socket on B with 4000 (reconnect), not 4401."""
    a, b = replicas
    wf = await _workflow(a, tenant_a.owner)
    async with websockets.connect(f"ws://{b}/api/collab/{wf}?token={tenant_a.editor.token}") as ws:
        await ws.recv()
        async with httpx.AsyncClient(base_url=f"http://{a}", timeout=10) as c:
            r = await c.patch(f"/api/members/{tenant_a.editor.user_id}", json={"role": "viewer"},
                              headers=tenant_a.owner.headers)
            assert r.status_code == 200, r.text
        assert await closed_with(ws) == 4000 and ws.close_reason == "role changed"
