"""The server's own send for co-editing data messages (backend/collab/send.py)."""

from __future__ import annotations

from typing import Any

from litestar import WebSocket

from backend.app import create_app
from backend.collab.send import SERVER_SEND, data_send, expose_server_send


async def test_a_websocket_scope_carries_the_servers_send_and_http_does_not() -> None:
    """The outermost wrapper puts the send the server handed in into a WebSocket's scope, unwrapped;
    an HTTP request's scope gets nothing."""
    seen: dict[str, Any] = {}

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen[scope["type"]] = scope.get(SERVER_SEND)

    async def server_send(message: Any) -> None:
        pass

    app = expose_server_send(inner)
    await app({"type": "websocket"}, None, server_send)
    await app({"type": "http"}, None, server_send)
    assert seen == {"websocket": server_send, "http": None}


async def test_data_messages_use_the_servers_send_and_fall_back_to_litestars() -> None:
    """A socket whose scope has the server's send uses it for data; one without uses Litestar's."""
    sent: list[Any] = []

    async def server_send(message: Any) -> None:
        sent.append(message)

    exposed = WebSocket({"type": "websocket", SERVER_SEND: server_send, "path": "/", "headers": []})  # type: ignore[typeddict-unknown-key]
    assert data_send(exposed) is server_send
    plain = WebSocket({"type": "websocket", "path": "/", "headers": []}, send=server_send)  # type: ignore[typeddict-item]
    assert data_send(plain) == plain.send


def test_create_app_exposes_it_outside_litestars_wrappers(tmp_path) -> None:
    """create_app wraps Litestar's outermost handler (exception handling, CORS), not a route middleware."""
    from backend.settings import Settings

    app = create_app(Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/never_opened", data_dir=str(tmp_path),
                              secret_key="s", prefect="never", prefect_at_start=False))
    # The security-headers wrapper sits outermost but passes WebSockets through untouched.
    outer = app.asgi_handler
    assert outer.__qualname__.startswith("with_security_headers")
    inner = next(c.cell_contents for c in outer.__closure__ or () if callable(c.cell_contents))
    assert inner.__qualname__.startswith("expose_server_send")
