"""Helpers of the credentials browser tests: the app allowed to call loopback APIs, and such an
API that answers 200 only to the right bearer token (401 otherwise) and remembers what it saw."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import api_as
from tests.live_server import answer_lifespan, serving


class BearerApi:
    """An ASGI app: GET anything -> 200 {"authorized": true} with `Authorization: Bearer <token>`, else 401."""

    def __init__(self) -> None:
        self.token = "tok-" + secrets.token_hex(12)
        self.seen: list[str | None] = []   # the Authorization header of each request

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        auth = dict(scope["headers"]).get(b"authorization")
        self.seen.append(auth.decode() if auth else None)
        ok = auth == f"Bearer {self.token}".encode()
        await send({"type": "http.response.start", "status": 200 if ok else 401,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps({"authorized": ok}).encode()})


@pytest.fixture
async def bearer_api() -> AsyncIterator[tuple[BearerApi, str]]:
    """(the API, its base URL) on a loopback port."""
    app = BearerApi()
    async with serving(app) as host:
        yield app, f"http://{host}"


@pytest.fixture
async def server(e2e_db_url: str, editor_dist: Path, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The app as the conftest serves it, but allowed to call 127.0.0.1 (MAILY_HTTP_ALLOWED_HOSTS)."""
    live = LiveServer(e2e_db_url, tmp_path / "data", editor_dist, http_allowed_hosts="127.0.0.1")
    await live.start()
    yield live
    await live.stop()


def manual_then_request(url: str = "", config: dict[str, Any] | None = None) -> dict[str, Any]:
    """A graph: a manual trigger wired to an http.request node `request` (config as given)."""
    return {"schema_version": 1, "name": "credentials e2e", "nodes": [
        {"id": "trigger", "type": "trigger.manual", "type_version": 1, "position": {"x": 0, "y": 0}, "config": {}},
        {"id": "request", "type": "http.request", "type_version": 1, "position": {"x": 320, "y": 0},
         "config": {"url": url, **(config or {})}},
    ], "edges": [{"id": "e1", "source": "trigger", "source_port": "output", "target": "request", "target_port": "input"}]}


async def make_credential(server: LiveServer, tenant: TenantFixture, name: str, token: str) -> str:
    """A bearer credential made through the API by the tenant's editor; its id."""
    r = await api_as(server, tenant.editor, "POST", "/api/credentials", json={"name": name, "type": "bearer", "data": {"token": token}})
    assert r.status_code == 201, r.text
    return r.json()["id"]
