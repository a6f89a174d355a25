"""Co-editing tests: the app served by uvicorn on a loopback port (real WebSockets), and
a workflow to edit."""

from __future__ import annotations

from typing import Any, AsyncIterator

import httpx

import pytest

from backend.seed import welcome_graph
from tests.live_server import serving


@pytest.fixture
async def live_server(app):
    """The app served by uvicorn in this event loop; yields "127.0.0.1:<port>"."""
    async with serving(app) as address:
        yield address


@pytest.fixture
async def http(live_server) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the live server (not the in-process test client: that would run the app's
    startup a second time, in another loop, with a second room manager)."""
    async with httpx.AsyncClient(base_url=f"http://{live_server}", timeout=10) as c:
        yield c


@pytest.fixture
async def workflow(http, tenant_a) -> dict[str, Any]:
    r = await http.post("/api/workflows", json={"name": "co-edited", "graph": welcome_graph()},
                          headers=tenant_a.editor.headers)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def workflow_factory(http, tenant_a):
    """Makes a new workflow per call (hypothesis examples share one fixture instance)."""
    async def make() -> dict[str, Any]:
        r = await http.post("/api/workflows", json={"name": "random", "graph": welcome_graph()},
                            headers=tenant_a.editor.headers)
        assert r.status_code == 201, r.text
        return r.json()
    return make
