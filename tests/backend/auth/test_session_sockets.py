"""Ending a browser session closes its open co-editing sockets with 4401 (a real uvicorn server)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from tests.backend.collab.conftest import http, live_server, workflow  # noqa: F401 - fixtures


async def _closed_with(ws) -> int:
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    return ws.close_code


async def _browser(live_server: str, member) -> httpx.AsyncClient:
    c = httpx.AsyncClient(base_url=f"http://{live_server}", timeout=10)
    r = await c.post("/api/auth/login", json={"email": member.email, "password": member.password})
    assert r.status_code == 200, r.text
    return c


def _socket(live_server: str, workflow_id: str, browser: httpx.AsyncClient):
    return websockets.connect(f"ws://{live_server}/api/collab/{workflow_id}",
                              additional_headers={"Cookie": f"maily_session={browser.cookies['maily_session']}"})


async def test_revoking_a_session_closes_its_socket_and_keeps_others(live_server, workflow, tenant_a):
    """DELETE /api/auth/sessions/{id} closes that session's co-editing socket with 4401; another session's stays open."""
    laptop, phone = await _browser(live_server, tenant_a.editor), await _browser(live_server, tenant_a.editor)
    try:
        async with _socket(live_server, workflow["id"], laptop) as doomed, \
                _socket(live_server, workflow["id"], phone) as kept:
            await doomed.recv()
            await kept.recv()
            items = (await phone.get("/api/auth/sessions")).json()["items"]
            other = next(i for i in items if not i["current"])
            assert (await phone.delete(f"/api/auth/sessions/{other['id']}")).status_code == 204
            assert await _closed_with(doomed) == 4401
            await asyncio.wait_for(await kept.ping(), 5)
    finally:
        await laptop.aclose()
        await phone.aclose()


async def test_logout_and_password_change_close_sockets(live_server, workflow, tenant_a):
    """Logout closes the session's socket; a password change closes the other sessions' sockets, not its own."""
    owner = tenant_a.owner
    one, two, three = [await _browser(live_server, owner) for _ in range(3)]
    try:
        async with _socket(live_server, workflow["id"], one) as a, _socket(live_server, workflow["id"], two) as b, \
                _socket(live_server, workflow["id"], three) as c:
            for ws in (a, b, c):
                await ws.recv()
            assert (await one.post("/api/auth/logout")).status_code == 204
            assert await _closed_with(a) == 4401
            r = await two.post("/api/auth/password", json={"current_password": owner.password,
                                                           "new_password": "a-much-longer-secret"})
            assert r.status_code == 204, r.text
            assert await _closed_with(c) == 4401
            await asyncio.wait_for(await b.ping(), 5)
            assert (await three.get("/api/auth/me")).status_code == 401
            assert (await two.get("/api/auth/me")).status_code == 200
    finally:
        for c_ in (one, two, three):
            await c_.aclose()
