"""The one way tests serve the app on a real loopback port: uvicorn in the test's own event loop
(so tests can also drive app.state), configured as `maily serve` runs it (`serving_in_thread` for
synchronous tests, the e2e server's restarts on the same port too); and the clients tests
speak to it with: a signed-in browser, a cookie-authenticated socket, a socket's close code."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from contextlib import asynccontextmanager, contextmanager
from typing import Any, AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
import websockets


_PORTS = random.SystemRandom()   # not the global generator, which hypothesis seeds the same in every worker


def free_port() -> int:
    """A loopback port free now, picked below the kernel's ephemeral range (32768-60999 on Linux):
    a port the kernel hands out is one an outgoing connection, or another test process, may take
    before our server binds it (seen with `maily serve` started as a subprocess under xdist)."""
    for _ in range(200):
        port = _PORTS.randint(20000, 32767)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def answer_lifespan(receive: Any, send: Any) -> None:
    """For a bare ASGI app served with `serving` (lifespan on): answer startup and shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


@asynccontextmanager
async def serving(app: Any, port: int | None = None, **config: Any) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yields "127.0.0.1:<port>" once it accepts connections.
    `port`: this one rather than a free one (a restart on the same address); `config`: more
    uvicorn settings (timeout_graceful_shutdown=5)."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           ws="websockets-sansio", ws_per_message_deflate=False,  # as `maily serve`
                                           **config))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()   # start-up failed: raise its error here
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@contextmanager
def serving_in_thread(app: Any) -> Iterator[str]:
    """`serving` for synchronous tests (schemathesis): on an event loop of its own, in a thread."""
    loop = asyncio.new_event_loop()
    address: list[str] = []
    ready, stop = threading.Event(), asyncio.Event()

    async def serve() -> None:
        async with serving(app) as where:
            address.append(where)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    while not ready.wait(0.05):
        if not thread.is_alive():
            raise RuntimeError("the app did not start")
    try:
        yield address[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(60)
        loop.close()


async def closed_with(ws: Any) -> int:
    """Reads (and drops) messages until the server closes the socket; its close code."""
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    return ws.close_code


async def browser(server: str, member: Any) -> httpx.AsyncClient:
    """An HTTP client signed in as `member` by password: it carries the session cookie."""
    c = httpx.AsyncClient(base_url=f"http://{server}", timeout=10)
    r = await c.post("/api/auth/login", json={"email": member.email, "password": member.password})
    assert r.status_code == 200, r.text
    return c


def cookie_socket(server: str, path: str, b: httpx.AsyncClient) -> Any:
    """A WebSocket to `path` authenticated by the browser's session cookie."""
    return websockets.connect(f"ws://{server}{path}", additional_headers={"Cookie": f"maily_session={b.cookies['maily_session']}"})
