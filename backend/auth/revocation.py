"""Revocation reaches open sockets (security item 5): an in-process registry of open WebSockets.

WebSocket handlers `register` a close callback under who opened them (user, tenant, API token,
browser session); `revoke(app_state, ...)` closes every matching socket with code 4401: a revoked
token, an ended session (logout, DELETE /api/auth/sessions/{id}, a password change or reset).
Multi-replica fan-out over Redis (MAILY_REDIS_URL) is not wired yet.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator

REVOKED_CODE = 4401
Closer = Callable[[int, str], Awaitable[Any]]


@dataclass(frozen=True)
class SocketOwner:
    user_id: str
    tenant_id: str
    token_id: str | None = None
    session_id: str | None = None


class SocketRegistry:
    """The open sockets of this process, each with how to close it."""

    def __init__(self) -> None:
        self._open: dict[int, tuple[SocketOwner, Closer]] = {}

    @contextlib.contextmanager
    def register(self, owner: SocketOwner, close: Closer) -> Iterator[None]:
        key = id(close)
        self._open[key] = (owner, close)
        try:
            yield
        finally:
            self._open.pop(key, None)

    def matching(self, **criteria: str | None) -> list[Closer]:
        wanted = {k: v for k, v in criteria.items() if v is not None}
        if not wanted:  # revoke() with no criteria must not close everything
            return []
        return [close for owner, close in self._open.values()
                if all(getattr(owner, k) == v for k, v in wanted.items())]


def registry(app_state: Any) -> SocketRegistry:
    reg = getattr(app_state, "socket_registry", None)
    if reg is None:
        reg = SocketRegistry()
        app_state.socket_registry = reg
    return reg


async def revoke(app_state: Any, *, user_id: str | None = None, tenant_id: str | None = None,
                 token_id: str | None = None, session_id: str | None = None, reason: str = "revoked") -> int:
    """Close every open socket of this process matching all given criteria; how many were closed."""
    closers = registry(app_state).matching(user_id=user_id, tenant_id=tenant_id,
                                           token_id=token_id, session_id=session_id)
    for close in closers:
        with contextlib.suppress(Exception):  # an already-closing socket
            await close(REVOKED_CODE, reason)
    return len(closers)
