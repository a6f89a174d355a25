"""Ending a browser session closes its open co-editing sockets with 4401 (a real uvicorn server)."""

from __future__ import annotations

import asyncio

from tests.backend.collab.conftest import http, live_server, workflow  # noqa: F401 - fixtures
from tests.live_server import browser, closed_with, cookie_socket


async def test_revoking_a_session_closes_its_socket_and_keeps_others(live_server, workflow, tenant_a):
    """DELETE /api/auth/sessions/{id} closes that session's co-editing socket with 4401; another session's stays open."""
    laptop, phone = await browser(live_server, tenant_a.editor), await browser(live_server, tenant_a.editor)
    try:
        async with cookie_socket(live_server, f"/api/collab/{workflow['id']}", laptop) as doomed, \
                cookie_socket(live_server, f"/api/collab/{workflow['id']}", phone) as kept:
            await doomed.recv()
            await kept.recv()
            items = (await phone.get("/api/auth/sessions")).json()["items"]
            other = next(i for i in items if not i["current"])
            assert (await phone.delete(f"/api/auth/sessions/{other['id']}")).status_code == 204
            assert await closed_with(doomed) == 4401
            await asyncio.wait_for(await kept.ping(), 5)
    finally:
        await laptop.aclose()
        await phone.aclose()


async def test_logout_and_password_change_close_sockets(live_server, workflow, tenant_a):
    """Logout closes the session's socket; a password change closes the other sessions' sockets, not its own."""
    owner = tenant_a.owner
    one, two, three = [await browser(live_server, owner) for _ in range(3)]
    try:
        async with cookie_socket(live_server, f"/api/collab/{workflow['id']}", one) as a, cookie_socket(live_server, f"/api/collab/{workflow['id']}", two) as b, \
                cookie_socket(live_server, f"/api/collab/{workflow['id']}", three) as c:
            for ws in (a, b, c):
                await ws.recv()
            assert (await one.post("/api/auth/logout")).status_code == 204
            assert await closed_with(a) == 4401
            r = await two.post("/api/auth/password", json={"current_password": owner.password,
                                                           "new_password": "a-much-longer-secret"})
            assert r.status_code == 204, r.text
            assert await closed_with(c) == 4401
            await asyncio.wait_for(await b.ping(), 5)
            assert (await three.get("/api/auth/me")).status_code == 401
            assert (await two.get("/api/auth/me")).status_code == 200
    finally:
        for c_ in (one, two, three):
            await c_.aclose()
