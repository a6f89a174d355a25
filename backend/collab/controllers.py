"""WS /api/collab/{workflow_id}: the y-websocket endpoint of a workflow's draft (docs/collab.md)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path

from litestar import Litestar, WebSocket, websocket

from backend.auth.deps import authenticate_websocket, socket_refusal
from backend.auth.schemas import Principal
from backend.auth.revocation import SocketOwner, registry
from backend.auth.origin import origin_allowed
from backend.collab.rooms import Connection, RoomManager
from backend.collab.send import data_send
from backend.collab.shared import RoomBus
from backend.errors import NotFound
from backend.workflows.services import get_workflow

log = logging.getLogger("maily.collab")


_heap_frozen = False


async def start_collab(app: Litestar) -> None:
    settings = app.state.settings
    # With Redis, rooms are shared by every replica (backend/collab/shared.py); without, this process alone.
    bus = RoomBus(settings.redis_url) if settings.redis_url else None
    app.state.collab = RoomManager(app.state.db, wal_dir=Path(settings.data_dir) / "collab-wal", bus=bus)
    await app.state.collab.start()
    _freeze_startup_heap()


def _freeze_startup_heap() -> None:
    """Once per process: collect, then put everything alive after start-up out of the cyclic
    garbage collector's reach (`gc.freeze`). A full collection walks every object of the app
    (~160,000 after importing Prefect, Litestar and SQLAlchemy) and stops the event loop for
    50-200 ms: a latency spike for everyone co-editing. Frozen objects are still freed by
    reference counting; only cycles among them would stay."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


async def stop_collab(app: Litestar) -> None:
    manager = getattr(app.state, "collab", None)
    if manager is not None:
        await manager.stop()


@websocket("/api/collab/{workflow_id:str}", operation_id="collabWorkflow")
async def collab_socket(socket: WebSocket, workflow_id: str) -> None:
    """Co-edit a workflow's draft (y-websocket protocol). Viewers are read-only.

    Refusals are final close codes after accept: 4401 not signed in, 4403 origin refused,
    4404 no such workflow in your tenant."""
    await socket.accept()
    st = socket.app.state
    principal = await authenticate_websocket(socket)
    if principal is None:
        return await socket.close(code=4401, reason="sign in or pass ?token=")
    if not origin_allowed(socket, st.settings.allowed_origin_set):
        return await socket.close(code=4403, reason="origin not allowed")
    owner = SocketOwner(principal.user_id, principal.tenant_id, principal.token_id, principal.session_id, kind="collab")
    # Registered before the second look at the credential: a revocation committed after
    # authenticate_websocket either finds this socket registered or is seen by socket_refusal.
    with registry(st).register(owner, lambda code, reason: socket.close(code=code, reason=reason)):
        try:
            async with st.db.sessionmaker() as s:
                wf = await get_workflow(s, principal, workflow_id)
                refusal = await socket_refusal(s, principal)
        except NotFound:
            return await socket.close(code=4404, reason="no such workflow")
        if refusal is not None:
            return await socket.close(code=refusal[0], reason=refusal[1])
        await _co_edit(socket, wf.id, principal)


async def _co_edit(socket: WebSocket, workflow_id: str, principal: Principal) -> None:
    """The connection's life in the room, once it is admitted."""
    st = socket.app.state

    # The name editors show (as the editor computes it for itself): awareness `user` is this.
    conn = Connection(read_only=not principal.can_edit, user_id=principal.user_id,
                      user_name=principal.name or principal.email.split("@")[0])
    pump = asyncio.create_task(conn.pump(data_send(socket), lambda code, reason: socket.close(code, reason)))
    try:
        room = await st.collab.join(workflow_id, principal.tenant_id, conn)
    except RuntimeError:  # shutting down
        pump.cancel()
        return await socket.close(code=1012, reason="server restarting")
    try:
        while True:
            event = await socket.receive()
            if event["type"] == "websocket.disconnect":
                break
            if event.get("bytes"):
                await room.receive(conn, event["bytes"])
            if pump.done():  # the socket failed while sending, or the room closed it
                break
    except Exception:  # noqa: BLE001 - an abrupt disconnect surfaces as various errors
        log.debug("collab %s: connection ended abruptly", workflow_id, exc_info=True)
    finally:
        await st.collab.leave(room, conn)
        pump.cancel()
        with contextlib.suppress(BaseException):
            await pump
