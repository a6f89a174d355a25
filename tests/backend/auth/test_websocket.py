"""authenticate_websocket: ?token=, Authorization header, or the session cookie."""

from __future__ import annotations

import pytest
from litestar import WebSocket, websocket
from litestar.testing import TestClient

from backend.app import create_app
from backend.auth.deps import authenticate_websocket


@websocket("/api/ws-test")
async def whoami(socket: WebSocket) -> None:
    principal = await authenticate_websocket(socket)
    if principal is None:
        await socket.close(code=4401)
        return
    await socket.accept()
    await socket.send_json({"user_id": principal.user_id, "tenant_id": principal.tenant_id})
    await socket.close()


@pytest.fixture
def ws_client(settings):
    with TestClient(create_app(settings, extra_route_handlers=[whoami])) as c:
        yield c


def test_query_token(ws_client, tenant_a):
    with ws_client.websocket_connect(f"/api/ws-test?token={tenant_a.viewer.token}") as ws:
        assert ws.receive_json() == {"user_id": tenant_a.viewer.user_id, "tenant_id": tenant_a.id}


def test_header_token(ws_client, tenant_a):
    with ws_client.websocket_connect("/api/ws-test", headers=tenant_a.owner.headers) as ws:
        assert ws.receive_json()["user_id"] == tenant_a.owner.user_id


def test_session_cookie(ws_client, tenant_a):
    ed = tenant_a.editor
    assert ws_client.post("/api/auth/login", json={"email": ed.email, "password": ed.password}).status_code == 200
    with ws_client.websocket_connect("/api/ws-test") as ws:
        assert ws.receive_json()["user_id"] == ed.user_id


def test_anonymous_and_bad_token_are_refused(ws_client):
    from litestar.exceptions import WebSocketDisconnect

    for url in ("/api/ws-test", "/api/ws-test?token=mf_wrong"):
        with pytest.raises(WebSocketDisconnect) as info, ws_client.websocket_connect(url) as ws:
            ws.receive_json()
        assert info.value.code == 4401
