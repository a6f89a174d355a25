"""The runs API tests use the in-process engine; test_prefect_runs.py covers the Prefect path."""

import pytest

from backend.settings import Settings


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False)


@pytest.fixture
async def live_server(app):
    """The app served by uvicorn on a loopback port, in this event loop: WebSocket tests
    talk to it with a real client, as a browser would."""
    import asyncio
    import socket

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           ws="websockets-sansio", ws_per_message_deflate=False))  # as `maily serve`
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task
