"""The Origin check of WebSocket handlers (browsers do not apply CORS to WebSockets)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection


def origin_allowed(socket: ASGIConnection[Any, Any, Any, Any], allowed: frozenset[str]) -> bool:
    """Browsers send Origin; it must be this host or a configured origin. Non-browser clients send none."""
    origin = socket.headers.get("origin")
    if not origin:
        return True
    host = socket.headers.get("host", "")
    return origin in allowed or origin.split("://", 1)[-1] == host
