"""The one way tests serve the app on a real loopback port: uvicorn in the test's own event loop
(so tests can also drive app.state), configured as `maily serve` runs it."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yields "127.0.0.1:<port>" once it accepts connections."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           ws="websockets-sansio", ws_per_message_deflate=False))  # as `maily serve`
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()   # start-up failed: raise its error here
            await asyncio.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
