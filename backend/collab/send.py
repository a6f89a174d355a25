"""The server's own ASGI `send` for co-editing sockets.

Every message to every co-editor went through the `send` wrappers of Litestar's exception handler, of the
session middleware and of the WebSocket itself: three coroutines more per message, which matter only for the
handshake and the close (errors, cookies, state). At 50 people and 200 updates a second that is 10,000
messages a second, so a room's data messages take the server's `send` directly, which `create_app` keeps in
the scope by wrapping Litestar's outermost handler; the accept and the close still go through Litestar."""

from __future__ import annotations

from typing import Callable

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


def direct_writer(send: Send) -> Callable[[bytes], bool] | None:
    """For uvicorn's sans-I/O WebSocket protocol (what `maily serve` runs): a function that writes an already
    framed message straight to the socket when uvicorn's own `send` would do nothing else, and says whether it
    did. A room frames each update once (`frame`) and writes those bytes to every idle connection from the
    broadcast itself, instead of waking one task per connection that frames the same bytes again: per
    message and client that left the syscall and little more (docs/collab.md). It refuses (False: the message
    goes the usual way) whenever uvicorn's `send` would wait, fail or close: not open yet or any more, the
    socket paused for a slow reader, an extension (compression) negotiated. None for any other server."""
    proto = getattr(send, "__self__", None)
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
        from websockets.protocol import State
    except ImportError:  # pragma: no cover - both are pinned dependencies
        return None
    if not isinstance(proto, WebSocketsSansIOProtocol):
        return None

    def write(frame_bytes: bytes) -> bool:
        if (proto.disconnected or proto.close_sent or not proto.handshake_complete
                or proto.initial_response is not None or not proto.writable.is_set()
                or proto.conn.state is not State.OPEN or proto.conn.extensions or proto.transport.is_closing()):
            return False
        proto.transport.write(frame_bytes)
        return True

    return write


def frame(message: bytes) -> bytes:
    """A server's binary WebSocket frame of `message` (unmasked, no extension): the same bytes for everyone."""
    from websockets.frames import OP_BINARY, Frame

    return Frame(OP_BINARY, message).serialize(mask=False)
