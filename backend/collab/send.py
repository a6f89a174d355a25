"""The server's own ASGI `send` for co-editing sockets.

Every message to every co-editor went through the `send` wrappers of Litestar's exception handler, of the
session middleware and of the WebSocket itself: three coroutines more per message, which matter only for the
handshake and the close (errors, cookies, state). At 50 people and 200 updates a second that is 10,000
messages a second, so a room's data messages take the server's `send` directly, which `create_app` keeps in
the scope by wrapping Litestar's outermost handler; the accept and the close still go through Litestar."""

from __future__ import annotations

from litestar import WebSocket
from litestar.types import ASGIApp, Receive, Scope, Send

SERVER_SEND = "maily.server_send"


def expose_server_send(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send  # type: ignore[literal-required]
        await app(scope, receive, send)

    return middleware


def data_send(socket: WebSocket) -> Send:
    """The send for a socket's data messages: the server's own when `create_app` exposed it."""
    return socket.scope.get(SERVER_SEND) or socket.send  # type: ignore[return-value]  # (an app built without it)
