"""MCP server tests: the app served on loopback by uvicorn (in-process engine, no Prefect), spoken to
with the official MCP client."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from backend.settings import Settings
from tests.live_server import serving


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False, mcp_tool_timeout_s=10)


@pytest.fixture
async def server(app) -> AsyncIterator[str]:
    """The app on a loopback port: its address."""
    async with serving(app) as address:
        yield address


@pytest.fixture
async def client(server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://{server}", timeout=30) as c:
        yield c


@asynccontextmanager
async def mcp_session(server: str, token: str) -> AsyncIterator[ClientSession]:
    """An initialized MCP client session at the app's /mcp with an API token."""
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    async with http, streamable_http_client(f"http://{server}/mcp", http_client=http) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def exposed_workflow(client: httpx.AsyncClient, headers: dict[str, str], name: str, graph: dict[str, Any],
                           *, publish: bool = True, expose: bool = True) -> str:
    """A workflow made from `graph`, published and exposed at /mcp unless told otherwise; its id."""
    r = await client.post("/api/workflows", json={"name": name, "graph": graph}, headers=headers)
    assert r.status_code == 201, r.text
    wf = r.json()["id"]
    if publish:
        r = await client.post(f"/api/workflows/{wf}/publish", json={}, headers=headers)
        assert r.status_code == 201, r.text
    if expose:
        r = await client.put(f"/api/workflows/{wf}/mcp", json={"exposed": True}, headers=headers)
        assert r.status_code == 200, r.text
    return wf
