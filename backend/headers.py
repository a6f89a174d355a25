"""Security headers on every HTTP response: the editor, the unsubscribe page, the API, errors.

The editor is a Vite build: its scripts and styles are files under /assets, but React Flow sets
`style` attributes, so styles allow 'unsafe-inline' (scripts never do). The collaborative editor
talks to the same host over fetch and ws/wss. Nobody may frame any page (clickjacking of the
unsubscribe button or the editor). The API docs at /schema load Scalar and Swagger UI from
CDNs with inline bootstrap scripts, so they get their own, looser policy (still unframeable).
"""

from __future__ import annotations

import re
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

APP_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
              "font-src 'self' data:; connect-src 'self'{sockets}; object-src 'none'; base-uri 'self'; "
              "form-action 'self'; frame-ancestors 'none'")
# Scalar (cdn.jsdelivr.net) and Swagger UI (cdn.jsdelivr.net / unpkg.com) with their inline starters.
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com; "
               "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com https://fonts.googleapis.com; "
               "img-src 'self' data: https:; font-src 'self' data: https://cdn.jsdelivr.net https://fonts.gstatic.com; "
               "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")

_COMMON = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin")]


# A Host header that is a plain host[:port]; anything else is left out of the policy, not echoed.
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$")


def policy_for(path: str, host: str = "") -> str:
    """The CSP of a path; `host` (the request's Host) names the same-host ws/wss endpoints."""
    if path == "/schema" or path.startswith("/schema/"):
        return DOCS_POLICY
    # 'self' covers ws/wss of the same host in CSP3 browsers; named explicitly for older ones.
    sockets = f" ws://{host} wss://{host}" if _HOST.match(host) else ""
    return APP_POLICY.format(sockets=sockets)


def _host(scope: Scope) -> str:
    for key, value in scope.get("headers") or []:
        if key == b"host":
            return value.decode("latin-1")
    return ""


def with_security_headers(app: ASGIApp) -> ASGIApp:
    """Wrap the whole ASGI app (outside the exception handler, so error pages get them too)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        extra = [*_COMMON, (b"content-security-policy", policy_for(scope["path"], _host(scope)).encode())]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers") or [])
                present = {bytes(k).lower() for k, _ in headers}
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
