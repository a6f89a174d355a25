"""Revocation reaches open sockets (security item 5): an in-process registry of open WebSockets.

WebSocket handlers `register` a close callback under who opened them (user, tenant, API token,
browser session); `revoke(app_state, ...)` closes every matching socket with code 4401: a revoked
token, an ended session (logout, DELETE /api/auth/sessions/{id}, a password change or reset), a
removed member. With MAILY_REDIS_URL set, `revoke` also publishes the criteria on the Redis channel
`maily:revocations`; every replica subscribes at start-up (`start_revocation_bus`) and closes its
own matching sockets. Without Redis, revocation is in-process only.

A role change is not a revocation: `revoke(..., kind="collab", code=REFRESH_CODE)` closes the
person's co-editing sockets of that workspace with 4000, which the editor answers by reconnecting,
so the room admits them with their new role (a demoted editor cannot keep writing through a
socket opened before). Run-event sockets only read: they stay open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator

log = logging.getLogger("maily.revocation")

REVOKED_CODE = 4401    # final: the credential or membership is gone (the editor shows signed out)
REFRESH_CODE = 4000    # reconnect: what the socket may do has changed (a role change)
CHANNEL = "maily:revocations"
_IDENTITY = ("user_id", "tenant_id", "token_id", "session_id")
_CRITERIA = (*_IDENTITY, "kind")
Closer = Callable[[int, str], Awaitable[Any]]


@dataclass(frozen=True)
class SocketOwner:
    user_id: str
    tenant_id: str
    token_id: str | None = None
    session_id: str | None = None
    kind: str = ""    # "collab" or "run"


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
        if not any(k in _IDENTITY for k in wanted):  # no criteria (or just a kind) must not close everything
            return []
        return [close for owner, close in self._open.values()
                if all(getattr(owner, k) == v for k, v in wanted.items())]


def registry(app_state: Any) -> SocketRegistry:
    reg = getattr(app_state, "socket_registry", None)
    if reg is None:
        reg = SocketRegistry()
        app_state.socket_registry = reg
    return reg


async def close_local(app_state: Any, criteria: dict[str, str | None], reason: str, code: int = REVOKED_CODE) -> int:
    closers = registry(app_state).matching(**{k: criteria.get(k) for k in _CRITERIA})
    for close in closers:
        with contextlib.suppress(Exception):  # an already-closing socket
            await close(code, reason)
    return len(closers)


async def revoke(app_state: Any, *, user_id: str | None = None, tenant_id: str | None = None,
                 token_id: str | None = None, session_id: str | None = None, kind: str | None = None,
                 reason: str = "revoked", code: int = REVOKED_CODE) -> int:
    """Close every open socket matching all given criteria (kind: only "collab" or "run" sockets)
    with `code`: this process's at once (how many is returned), the other replicas' through Redis
    when it is configured."""
    criteria = {"user_id": user_id, "tenant_id": tenant_id, "token_id": token_id, "session_id": session_id,
                "kind": kind}
    closed = await close_local(app_state, criteria, reason, code)
    bus = getattr(app_state, "revocation_redis", None)
    if bus is not None and any(criteria[k] for k in _IDENTITY):
        try:
            await bus.publish(CHANNEL, json.dumps({**criteria, "reason": reason, "code": code}))
        except Exception as exc:  # noqa: BLE001 - the database already refuses the credential
            log.warning("revocation not published to other replicas: %s", type(exc).__name__)
    return closed


def _criteria_of(raw: Any) -> tuple[dict[str, str | None], str, int] | None:
    """The criteria, reason and close code of a channel message, or None when it is not one of ours."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    criteria = {k: data.get(k) if isinstance(data.get(k), str) else None for k in _CRITERIA}
    code = REFRESH_CODE if data.get("code") == REFRESH_CODE else REVOKED_CODE
    return criteria, str(data.get("reason", "revoked"))[:100], code


async def _listen(app_state: Any, pubsub: Any) -> None:
    while True:
        try:
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a Redis hiccup must not end the listener
            log.warning("revocation listener: %s", type(exc).__name__)
            await asyncio.sleep(1.0)
            continue
        if msg is None:
            continue
        parsed = _criteria_of(msg.get("data"))
        if parsed is None:   # a malformed message is dropped at once: the next one must not wait
            log.warning("revocation listener: dropped a malformed message")
            continue
        try:
            await close_local(app_state, *parsed)
        except Exception as exc:  # noqa: BLE001
            log.warning("revocation listener: %s", type(exc).__name__)


async def start_revocation_bus(app: Any) -> None:
    """Subscribe to the revocation channel when settings.redis_url is set (app start-up)."""
    url = app.state.settings.redis_url
    if not url:
        return
    import redis.asyncio as aioredis

    # Publishing happens inside requests (a removal, a sign-out): bounded, so a Redis outage
    # delays them by seconds, not forever. The subscriber waits on its own connection.
    client = aioredis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    subscriber = aioredis.from_url(url, socket_connect_timeout=2)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe(CHANNEL)
    app.state.revocation_redis = client
    app.state.revocation_pubsub = pubsub
    app.state.revocation_subscriber = subscriber
    app.state.revocation_task = asyncio.create_task(_listen(app.state, pubsub), name="revocation-listener")


async def stop_revocation_bus(app: Any) -> None:
    task = getattr(app.state, "revocation_task", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    pubsub = getattr(app.state, "revocation_pubsub", None)
    if pubsub is not None:
        with contextlib.suppress(Exception):
            await pubsub.aclose()
    for name in ("revocation_subscriber", "revocation_redis"):
        client = getattr(app.state, name, None)
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
        setattr(app.state, name, None)
