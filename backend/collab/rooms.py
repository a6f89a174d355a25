"""Rooms: one live document per workflow, shared by everyone editing it.

A Room holds the Doc, the awareness states and the connections. Accepted updates are
broadcast to the other connections at once and buffered for the database; the manager's
single background loop writes the buffers every FLUSH_INTERVAL, expires silent awareness
states and connections, and sends the server's awareness heartbeat. The last person to leave
closes the room: everything pending and a compacted snapshot are written, awaited.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

import sqlalchemy as sa
from pycrdt import Doc, merge_updates

from backend.collab import protocol as p
from backend.collab import store, wal
from backend.collab.doc_limits import DocLimits
from backend.collab.limits import UpdateRefused, check_update
from backend.collab.sandbox import Sandbox
from backend.collab.convert import (UnrepresentableGraph, apply_graph, check, doc_from_graph, graph_from_doc,
                                    integers_as_strings, roots)
from backend.collab.send import direct_writer, frame
from backend.collab.shared import AWARENESS, UPDATE, RoomBus
from backend.collab.wal import WriteAheadLog
from backend.db.models import Workflow

log = logging.getLogger("maily.collab")

FLUSH_INTERVAL = 1.0      # accepted updates reach the database within about this
TICK = 0.25               # the background loop's period
AWARENESS_TIMEOUT = 30.0  # y-protocols' outdatedTimeout: clients renew their state every 15 s
IDLE_TIMEOUT = 45.0       # a connection that sent nothing for this long has vanished
HEARTBEAT = 10.0          # server awareness renewal; y-websocket reconnects after 30 s of silence
ALIVE_CHECK = 1.0         # with other replicas: how often the loop looks for dead ones (shared.ALIVE_TTL_S)
RESHARE = 2.0           # with other replicas: what the Doc gained since, published again (see Room.tick)
COMPACT_AFTER = 500       # update rows of an open room before they are folded into the state
MAX_QUEUED = 2_000        # outgoing messages a client may fall behind before it is dropped
MERGE_AT_MOST = 200       # updates waiting in a row for one client that are sent as one


class Connection:
    """One socket in a room. Messages go out through a buffer drained by its own task
    (`pump`), so a broadcast never waits for a slow client. A client that fell behind gets the
    document updates waiting in a row as one merged update: one message instead of many. While
    nothing is waiting and the task is idle, a message is written to the socket at once, already
    framed (`send.direct_writer`), when the server allows it."""

    def __init__(self, *, read_only: bool, user_id: str = "", user_name: str = "") -> None:
        self.read_only = read_only
        self.user_id, self.user_name = user_id, user_name
        self.awareness_ids: set[int] = set()
        self.last_seen = time.monotonic()
        # (message, the update it carries, or None for any other message)
        self._out: deque[tuple[bytes, bytes | None]] = deque()
        self._closing: tuple[int, str] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._idle = False  # the pump waits for messages (nothing of ours is on its way out)
        self.direct: Callable[[bytes], bool] | None = None
        self.direct_sends = 0

    def send(self, message: bytes, update: bytes | None = None, framed: bytes | None = None) -> None:
        """Send or queue a message; `update`: the document update it carries, if it is a sync update;
        `framed`: the message as a WebSocket frame, when the caller framed it once for everyone."""
        if self._closing is not None:
            return
        if self._idle and not self._out and self.direct is not None \
                and self.direct(framed if framed is not None else frame(message)):
            self.direct_sends += 1
            return
        if len(self._out) > MAX_QUEUED:
            self.close(1013, "too far behind")
            return
        self._out.append((message, update))
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def close(self, code: int, reason: str) -> None:
        """Close the socket next; messages not sent yet are dropped (the client syncs again
        when it reconnects)."""
        if self._closing is None:
            self._closing = (code, reason)
            self._out.clear()
            if self._wakeup is not None and not self._wakeup.done():
                self._wakeup.set_result(None)

    def _next(self) -> bytes:
        message, update = self._out.popleft()
        if update is None or not self._out or self._out[0][1] is None:
            return message
        updates = [update]
        while self._out and self._out[0][1] is not None and len(updates) < MERGE_AT_MOST:
            updates.append(self._out.popleft()[1])  # type: ignore[arg-type]
        return p.sync_update(merge_updates(*updates))

    async def pump(self, send: Callable[[dict[str, Any]], Awaitable[None]],
                   close: Callable[[int, str], Awaitable[None]]) -> None:
        """Send the buffered messages through `send`, the socket's ASGI send (the event is
        built here: `send_bytes` would build the same dict through two more calls, for every
        message to every client), until the connection is closed."""
        loop = asyncio.get_running_loop()
        self.direct = direct_writer(send)
        while True:
            while self._out and self._closing is None:
                await send({"type": "websocket.send", "bytes": self._next()})
            if self._closing is not None:
                await close(*self._closing)
                return
            self._wakeup = loop.create_future()
            self._idle = True
            try:
                await self._wakeup
            finally:
                self._idle = False
            self._wakeup = None


@dataclass
class _Presence:
    clock: int
    state: dict[str, Any]
    seen: float
    owner: Connection | bytes | None  # None: the server's own state; bytes: the id of the replica whose client it is


class Room:
    def __init__(self, workflow_id: str, tenant_id: str, doc: Doc, db: Any, sandbox: Sandbox,
                 wal: WriteAheadLog | None = None, bus: RoomBus | None = None) -> None:
        self.workflow_id, self.tenant_id, self.doc, self.db = workflow_id, tenant_id, doc, db
        self.bus = bus   # other replicas holding this room (backend/collab/shared.py); None: this process alone
        self._applying_remote = False
        self._shared_state, self._shared_at, self._changed = doc.get_state(), time.monotonic(), False
        self.sandbox = sandbox
        self._backlog: list[bytes] = []  # the server's own updates the sandbox's replica has not seen
        self.wal = wal   # accepted updates are logged before they are broadcast (backend/collab/wal.py)
        self.connections: set[Connection] = set()
        self.pending: list[bytes] = []
        self.pending_since = 0.0
        self.rows_since_compaction = 0
        self.closed = False
        self.presence: dict[int, _Presence] = {}
        self._server_id = doc.client_id
        self._heartbeat_at = 0.0
        self._sender: Connection | None = None
        self._flush_lock = asyncio.Lock()
        self.limits = DocLimits(doc)
        self._subscription = doc.observe(self._on_update)
        # Workflow.graph is written again only when an update touched the graph's roots.
        self.graph_dirty = False
        self._graph_subscriptions = [(root, root.observe_deep(self._on_graph_change)) for root in roots(doc)]
        self._renew_server_presence()

    # --- document ------------------------------------------------------------------------

    def _on_update(self, event: Any) -> None:
        update = event.update
        if update == b"\x00\x00":
            return
        if not self.pending:
            self.pending_since = time.monotonic()
        self._changed = True
        # Another replica's update is stored here too (idempotent): it survives that replica's death.
        self.pending.append(update)
        if self._sender is None:
            self._backlog.append(update)
        if not self._applying_remote:
            if self.wal is not None:
                self.wal.append(update)   # durable before anyone is told of it
            if self.bus is not None:
                self.bus.publish(self.workflow_id, UPDATE, update)
        self._broadcast(p.sync_update(update), but=self._sender, update=update)

    def apply_remote(self, kind: bytes, data: bytes, age_s: float, origin: bytes) -> None:
        """An entry replica `origin` published for this room: a document update, or its
        clients' presence (ignored once older than AWARENESS_TIMEOUT, as if it had expired)."""
        if self.closed:
            return
        if kind == UPDATE:
            self._applying_remote = True
            try:
                self.doc.apply_update(data)
            finally:
                self._applying_remote = False
        elif kind == AWARENESS and age_s < AWARENESS_TIMEOUT:
            self._apply_remote_presence(p.decode_awareness(data), origin)

    def _on_graph_change(self, events: Any) -> None:
        self.graph_dirty = True

    def edit(self, fn: Callable[[Doc], None]) -> None:
        """A server-side edit (REST save, restore): broadcast to everyone, persisted like any other."""
        fn(self.doc)

    # --- connections ---------------------------------------------------------------------

    def join(self, conn: Connection) -> None:
        """Step 1, step 2 (the whole document) and everyone's presence, at once: the client
        is synced after one message round, whatever it sends first."""
        self.connections.add(conn)
        conn.send(p.sync_step1(self.doc.get_state()))
        conn.send(p.sync_step2(self.doc.get_update()))
        conn.send(p.awareness(self._presence_update(list(self.presence))))

    def leave(self, conn: Connection) -> None:
        self.connections.discard(conn)
        self._drop_presence(list(conn.awareness_ids))

    def _take_backlog(self) -> list[bytes]:
        backlog, self._backlog = self._backlog, []
        return backlog

    async def receive(self, conn: Connection, data: bytes) -> None:
        conn.last_seen = time.monotonic()
        if self.closed:
            return  # the client resends anything newer in its step 2 when it reconnects
        try:
            msg = p.decode(data)
            if msg.type == p.SYNC and msg.sub_type == p.STEP1:
                conn.send(p.sync_step2(self.doc.get_update(msg.payload)))
            elif msg.type == p.SYNC:
                if not conn.read_only and msg.payload != b"\x00\x00":
                    shape = check_update(msg.payload)  # before pycrdt: a deep value would crash it
                    if shape.foreign:  # what the editor never writes: the shapes of pycrdt's crashes
                        raise UpdateRefused(f"the update holds {shape.foreign}")
                    # Applied first in a sacrificial process (a crash there refuses it); the room
                    # applies the change as that process re-encoded it, not the bytes received.
                    change = await self.sandbox.check(self.workflow_id, msg.payload, self.doc.get_update,
                                                      self._take_backlog)
                    if self.closed:
                        self.sandbox.forget(self.workflow_id)
                        return
                    self._apply(conn, change, shape)
            elif msg.type == p.AWARENESS:
                self._apply_presence(conn, p.decode_awareness(msg.payload))
            elif msg.type == p.QUERY_AWARENESS:
                conn.send(p.awareness(self._presence_update(list(self.presence))))
        except UpdateRefused as exc:  # not applied, not broadcast, not stored; the room goes on
            log.warning("collab %s: refused a message and closed its connection: %s", self.workflow_id, exc)
            conn.close(1009 if exc.too_big else 1008, exc.reason[:120])
        except (p.ProtocolError, ValueError) as exc:  # pycrdt raises ValueError on a bad update
            log.warning("collab %s: dropped a malformed message: %s", self.workflow_id, exc)
        except BaseException as exc:
            # pycrdt refuses some forged updates with RuntimeError ("block parent must be a shared
            # type") and yrs panics surface as pyo3's PanicException, a BaseException.
            if not isinstance(exc, RuntimeError) and type(exc).__name__ != "PanicException":
                raise
            log.warning("collab %s: pycrdt could not apply an update; closed its sender: %s", self.workflow_id, exc)
            conn.close(1008, "the update could not be applied")

    def _apply(self, conn: Connection, update: bytes, shape: Any) -> None:
        """An update the sandbox admitted: the graph limits of REST, then the room's document.
        If the room does not apply it, the sandbox's replica (which did) is seeded again."""
        self._sender = conn
        try:
            self.limits.admit(self.doc, update, shape)
            self.doc.apply_update(update)
        except BaseException:
            self.sandbox.forget(self.workflow_id)
            raise
        finally:
            self._sender = None

    # --- awareness -----------------------------------------------------------------------

    def _presence_update(self, ids: list[int]) -> bytes:
        return p.encode_awareness([p.AwarenessEntry(i, self.presence[i].clock, self.presence[i].state)
                                   for i in ids if i in self.presence])

    def _apply_presence(self, conn: Connection, entries: list[p.AwarenessEntry]) -> None:
        """y-protocols' rule (a newer clock wins; a null state at the same clock removes),
        plus: nobody may set or remove a client id that another connection owns, and a
        state's `user` is always the connection's own (`_as_signed_in`)."""
        accepted = []
        now = time.monotonic()
        for e in entries:
            if not self._admits(e, conn):
                continue
            if e.state is None:
                del self.presence[e.client_id]
                conn.awareness_ids.discard(e.client_id)
                accepted.append(e)
            else:
                state = _as_signed_in(e.state, conn)
                self.presence[e.client_id] = _Presence(e.clock, state, now, conn)
                conn.awareness_ids.add(e.client_id)
                accepted.append(p.AwarenessEntry(e.client_id, e.clock, state))
        if accepted:
            message = p.encode_awareness(accepted)
            self._broadcast(p.awareness(message), but=conn)
            if self.bus is not None:
                self.bus.publish(self.workflow_id, AWARENESS, message)

    def _admits(self, e: p.AwarenessEntry, owner: Connection | bytes) -> bool:
        """y-protocols' rule for an entry from `owner` (a connection, or another replica): a
        newer clock wins, a null state at the same clock removes; the server's id and ids
        another owner holds are not `owner`'s to change. Another replica's client may be the
        same person's editor reconnected elsewhere: a state held for another replica may be
        taken over by any other replica, or by a connection of the user it shows."""
        cur = self.presence.get(e.client_id)
        if e.client_id == self._server_id:
            return False
        if cur is not None and cur.owner is not owner and not _may_take_over(cur, owner):
            return False
        if cur is None:
            return e.state is not None
        return e.clock > cur.clock or (e.clock == cur.clock and e.state is None)

    def _apply_remote_presence(self, entries: list[p.AwarenessEntry], origin: bytes) -> None:
        """The same clock rule for the clients of other replicas (their states were made
        signed-in there); a client id a connection of this replica owns is left alone."""
        accepted, now = [], time.monotonic()
        for e in entries:
            if not self._admits(e, origin):
                continue
            if e.state is None:
                del self.presence[e.client_id]
            else:
                self.presence[e.client_id] = _Presence(e.clock, e.state, now, origin)
            accepted.append(e)
        if accepted:
            self._broadcast(p.awareness(p.encode_awareness(accepted)))

    def _drop_presence(self, ids: list[int]) -> None:
        """Remove states and tell everyone: a null state at the same clock removes it."""
        popped = [(i, self.presence.pop(i)) for i in ids if i in self.presence]
        gone = [p.AwarenessEntry(i, pr.clock, None) for i, pr in popped]
        for conn in self.connections:
            conn.awareness_ids.difference_update(ids)
        if gone:
            self._broadcast(p.awareness(p.encode_awareness(gone)))
        ours = [e for e, (_, pr) in zip(gone, popped) if isinstance(pr.owner, Connection)]
        if ours and self.bus is not None:   # a remote state expired here expires at its home too
            self.bus.publish(self.workflow_id, AWARENESS, p.encode_awareness(ours))

    def replicas_present(self) -> set[bytes]:
        """The replicas whose clients have a state here."""
        return {pr.owner for pr in self.presence.values() if isinstance(pr.owner, bytes)}

    def drop_replica(self, replica: bytes) -> None:
        """Replica `replica` is gone (killed: its clients' states were never removed): remove them."""
        self._drop_presence([i for i, pr in self.presence.items() if pr.owner == replica])

    def _renew_server_presence(self) -> None:
        # The server's own state is {} (no user: editors do not show it); renewing it is the
        # heartbeat that keeps idle y-websocket clients from reconnecting.
        cur = self.presence.get(self._server_id)
        self.presence[self._server_id] = _Presence(cur.clock + 1 if cur else 0, {}, time.monotonic(), None)
        self._heartbeat_at = time.monotonic()
        self._broadcast(p.awareness(self._presence_update([self._server_id])))

    def _broadcast(self, message: bytes, but: Connection | None = None, update: bytes | None = None) -> None:
        """`message` to everyone but `but`, encoded and framed once: the same bytes to all.
        `update`: the document update it carries (see Connection.send)."""
        framed = frame(message)
        for conn in self.connections:
            if conn is not but:
                conn.send(message, update, framed)

    def tick(self, now: float) -> None:
        """Expire silent presence and vanished connections; renew the server's presence."""
        stale = [i for i, pr in self.presence.items() if pr.owner is not None and now - pr.seen > AWARENESS_TIMEOUT]
        if stale:
            self._drop_presence(stale)
        for conn in [c for c in self.connections if now - c.last_seen > IDLE_TIMEOUT]:
            conn.close(1001, "no message for too long")
            self.leave(conn)
        if now - self._heartbeat_at >= HEARTBEAT:
            self._renew_server_presence()
        if self.bus is not None and now - self._shared_at >= RESHARE:
            self._reshare(now)

    def _reshare(self, now: float) -> None:
        """Anti-entropy: publish everything the Doc gained since the last time, however it came
        (a replica killed between applying an update and publishing it leaves others without it
        until a client resyncs; an update held back for a missing dependency is integrated later
        without an update of its own). The update carries the whole delete set, so deletions are
        shared again too. Items the others have are ignored by them."""
        if self._changed or self.doc.get_state() != self._shared_state:
            state = self.doc.get_state()
            self.bus.publish(self.workflow_id, UPDATE, self.doc.get_update(self._shared_state))
            self._shared_state, self._changed = state, False
        self._shared_at = now

    # --- persistence ---------------------------------------------------------------------

    async def flush(self) -> None:
        """Write the buffered updates (merged into one row) and, if the graph changed, the
        draft JSON, in one transaction. The work on the event loop is small: one merge in
        pycrdt, the JSON only when needed, one INSERT (the database driver does the I/O off the
        loop). On failure the batch goes back to the buffer and is retried by the next tick."""
        async with self._flush_lock:
            batch, self.pending = self.pending, []
            logged = self.wal.size if self.wal is not None else 0   # what the log holds is in the batch
            if not batch:
                return
            graph_changed, self.graph_dirty = self.graph_dirty, False
            try:
                update = batch[0] if len(batch) == 1 else merge_updates(*batch)
                graph = graph_from_doc(self.doc) if graph_changed else None
                async with self.db.sessionmaker() as s, s.begin():
                    await store.append(s, self.workflow_id, update, graph)
            except BaseException:
                self.pending[:0] = batch
                self.graph_dirty = self.graph_dirty or graph_changed
                raise
            self.rows_since_compaction += 1
            if self.wal is not None:
                self.wal.flushed(logged)

    async def compact(self) -> None:
        async with self._flush_lock:
            async with self.db.sessionmaker() as s, s.begin():
                await store.compact(s, self.workflow_id, self.tenant_id)
            self.rows_since_compaction = 0

    async def close(self) -> None:
        """Everything pending, then a snapshot: awaited, so the last second of edits is kept."""
        self.closed = True
        await self.flush()
        await self.compact()
        await self.sandbox.drop(self.workflow_id)
        if self.wal is not None:
            self.wal.close()
        self.doc.unobserve(self._subscription)
        for root, subscription in self._graph_subscriptions:
            root.unobserve(subscription)


def _may_take_over(cur: _Presence, owner: Connection | bytes) -> bool:
    if not isinstance(cur.owner, bytes):
        return False   # the server's, or a connection's of this replica
    user = cur.state.get("user")
    return isinstance(owner, bytes) or (isinstance(user, dict) and user.get("id") == owner.user_id)


_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}")
DEFAULT_COLOR = "#64748b"


def _as_signed_in(state: dict[str, Any], conn: Connection) -> dict[str, Any]:
    """A person's awareness state as others see it: a `user` is always the signed-in
    principal of the connection (id and name from the server; the colour, if a CSS hex
    colour, from the client), so nobody can show up as someone else. A state without a
    `user` stays without one (editors show only states with a user)."""
    if "user" not in state:
        return state
    user = state["user"] if isinstance(state["user"], dict) else {}
    color = user.get("color")
    color = color if isinstance(color, str) and _COLOR.fullmatch(color) else DEFAULT_COLOR
    return {**state, "user": {"id": conn.user_id, "name": conn.user_name, "color": color}}


def _sanitized(graph: Any) -> dict[str, Any]:
    """A legacy draft the document cannot hold as is: keep the elements it can."""
    graph = dict(graph) if isinstance(graph, dict) else {}
    for key in ("nodes", "edges", "notes"):
        seen: set[str] = set()
        items = graph.get(key) if isinstance(graph.get(key), list) else []
        graph[key] = [i for i in items if isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"]
                      and not (i["id"] in seen or seen.add(i["id"]))]
    return integers_as_strings(graph)


class RoomManager:
    """The rooms of this process. Opening and closing a room, and server-side edits, happen
    under a per-workflow lock: a room is loaded once however many people join at once."""

    def __init__(self, db: Any, wal_dir: Path | None = None, bus: RoomBus | None = None) -> None:
        self.db, self.wal_dir = db, wal_dir   # wal_dir None: no write-ahead log (tests of the room alone)
        self.bus = bus   # rooms shared with other replicas through Redis; None: this process alone
        self.rooms: dict[str, Room] = {}
        self.sandbox = Sandbox()
        self._locks: dict[str, asyncio.Lock] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def _lock(self, workflow_id: str) -> asyncio.Lock:
        return self._locks.setdefault(workflow_id, asyncio.Lock())

    async def start(self) -> None:
        await self.sandbox.start()
        if self.bus is not None:
            await self.bus.start()
        self._task = asyncio.create_task(self._loop(), name="collab-rooms")

    async def stop(self) -> None:
        """Shutdown: stop the loop, close every socket (1012: clients reconnect to the next
        server) and write every room out."""
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for workflow_id in list(self.rooms):
            async with self._lock(workflow_id):
                room = self.rooms.pop(workflow_id, None)
                if room is not None:
                    for conn in list(room.connections):
                        conn.close(1012, "server restarting")
                    await self._close(room)
        await self.sandbox.stop()
        if self.bus is not None:
            await self.bus.stop()

    async def _close(self, room: Room) -> None:
        last_id = self.bus.unfollow(room.workflow_id) if self.bus is not None else None
        try:
            await room.close()
        except BaseException:
            if self.bus is not None and last_id is not None:   # it stays open: keep reading
                self.bus.follow(room.workflow_id, room, last_id)
            raise

    async def _open(self, workflow_id: str, tenant_id: str) -> Room:
        async with self.db.sessionmaker() as s, s.begin():
            doc = await store.load_doc(s, workflow_id)
            if doc is None:
                # First time: build it from the draft JSON and store it at once. Building it
                # again later would give the same content as different items (another client
                # id), and clients holding the first ones would merge both.
                graph = await s.scalar(sa.select(Workflow.graph).where(Workflow.id == workflow_id))
                try:
                    check(graph)
                except UnrepresentableGraph as exc:
                    log.warning("collab %s: draft not representable (%s); keeping what fits", workflow_id, exc)
                    graph = _sanitized(graph)
                doc = doc_from_graph(graph)
                if not await store.create_state(s, workflow_id, tenant_id, doc.get_update()):
                    doc = await store.load_doc(s, workflow_id)   # another replica's came first: everyone uses it
            shared: list[tuple[bytes, bytes, float, bytes]] = []
            if self.bus is not None:   # what other replicas accepted and may not have written yet
                shared, last_id = await self.bus.catch_up(workflow_id)
                caught = [data for kind, data, _, _ in shared if kind == UPDATE]
                if caught:   # stored as received (a deletion changes no state vector; idempotent)
                    for update in caught:
                        doc.apply_update(update)
                    await store.append(s, workflow_id, merge_updates(*caught), graph_from_doc(doc))
            left = wal.leftovers(self.wal_dir, workflow_id) if self.wal_dir is not None else []
            updates = [u for _, records in left for u in records]
            if updates:   # what a killed process had accepted but not written yet
                for update in updates:
                    doc.apply_update(update)
                await store.append(s, workflow_id, merge_updates(*updates), graph_from_doc(doc))
                log.warning("collab %s: %d update(s) recovered from a write-ahead log", workflow_id, len(updates))
                if self.bus is not None:   # replicas holding the room may never have had them
                    self.bus.publish(workflow_id, UPDATE, merge_updates(*updates))
        for path, _ in left:
            path.unlink(missing_ok=True)
        log_file = wal.WriteAheadLog(self.wal_dir, workflow_id) if self.wal_dir is not None else None
        room = Room(workflow_id, tenant_id, doc, self.db, self.sandbox, log_file, self.bus)
        if self.bus is not None:
            for kind, data, age_s, origin in shared:
                if kind == AWARENESS:
                    room.apply_remote(kind, data, age_s, origin)
            self.bus.follow(workflow_id, room, last_id)
        return room

    async def join(self, workflow_id: str, tenant_id: str, conn: Connection) -> Room:
        if self._stopped:
            raise RuntimeError("shutting down")
        async with self._lock(workflow_id):
            room = self.rooms.get(workflow_id)
            if room is None:
                room = self.rooms[workflow_id] = await self._open(workflow_id, tenant_id)
            room.join(conn)
            return room

    async def leave(self, room: Room, conn: Connection) -> None:
        room.leave(conn)
        if not room.connections:
            await self._close_if_empty(room)

    async def _close_if_empty(self, room: Room) -> None:
        async with self._lock(room.workflow_id):
            if room.connections or self.rooms.get(room.workflow_id) is not room:
                return  # someone joined meanwhile, or it is closed already
            await self._close(room)  # on failure the room stays open and the loop retries
            del self.rooms[room.workflow_id]

    async def edit(self, workflow_id: str, tenant_id: str, graph: dict[str, Any]) -> dict[str, Any]:
        """Make the draft `graph` through the document (live if open, else the stored one),
        durably; returns the resulting graph JSON."""
        check(graph)
        async with self._lock(workflow_id):
            room = self.rooms.get(workflow_id)
            temporary = room is None
            if room is None:
                room = await self._open(workflow_id, tenant_id)
            apply_graph(room.doc, graph, origin="rest")
            await room.flush()
            result = graph_from_doc(room.doc)
            room.limits.remeasure(result)
            if temporary:
                await self._close(room)
            return result

    async def current_graph(self, s: Any, workflow_id: str, fallback: dict[str, Any]) -> dict[str, Any]:
        """The draft as the document holds it: the live room's, else the stored one."""
        room = self.rooms.get(workflow_id)
        if room is not None:
            return graph_from_doc(room.doc)
        doc = await store.load_doc(s, workflow_id)
        return graph_from_doc(doc) if doc is not None else fallback

    async def _drop_dead_replicas(self) -> None:
        """The states of a killed replica's clients go within about ALIVE_TTL_S (not after
        AWARENESS_TIMEOUT): a replica whose heartbeat key expired is gone."""
        present = {r for room in self.rooms.values() for r in room.replicas_present()}
        if not present:
            return
        try:
            dead = present - await self.bus.alive(present)
        except Exception as exc:  # noqa: BLE001 - Redis away: nobody is declared dead
            log.warning("collab: could not check which replicas are alive (%s)", exc)
            return
        for replica in dead:
            for room in list(self.rooms.values()):
                room.drop_replica(replica)

    async def _loop(self) -> None:
        checked = 0.0
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            if self.bus is not None and now - checked >= ALIVE_CHECK:
                checked = now
                await self._drop_dead_replicas()
            for room in list(self.rooms.values()):
                try:
                    room.tick(now)
                    if room.pending and now - room.pending_since >= FLUSH_INTERVAL:
                        await room.flush()
                    if room.rows_since_compaction >= COMPACT_AFTER:
                        await room.compact()
                    if not room.connections:
                        await self._close_if_empty(room)
                except Exception:  # noqa: BLE001 - the database may be away for a while: retry
                    log.exception("collab %s: background write failed; retrying", room.workflow_id)
