"""A y-websocket client in Python (pycrdt Doc + websockets), as the editor's provider behaves:
on open it sends sync step 1 and its awareness, answers step 1 with step 2, applies step 2
and updates, and sends each local transaction as an update."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any, Callable

import websockets
from pycrdt import Doc

from backend.collab import protocol as p


class YClient:
    def __init__(self, url: str, *, doc: Doc | None = None, user: dict[str, Any] | None = None,
                 max_delay: float = 0.0, rng: random.Random | None = None) -> None:
        self.url, self.doc = url, doc or Doc()
        self.user = user
        self.presence: dict[int, tuple[int, dict[str, Any]]] = {}
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.received = 0
        self._clock = 0
        self._max_delay, self._rng = max_delay, rng or random.Random()
        self._remote = False
        self._out: asyncio.Queue[bytes] = asyncio.Queue()
        self._sub = self.doc.observe(self._local_update)
        self.ws: Any = None
        self._tasks: list[asyncio.Task[Any]] = []

    @property
    def client_id(self) -> int:
        return self.doc.client_id

    async def connect(self, *, wait_synced: bool = True, timeout: float = 5) -> "YClient":
        self.synced.clear()
        self.closed.clear()
        self.ws = await websockets.connect(self.url, open_timeout=timeout, max_size=None)
        self._tasks = [asyncio.create_task(self._reader()), asyncio.create_task(self._writer())]
        self._out.put_nowait(p.sync_step1(self.doc.get_state()))
        if self.user is not None:
            self.set_presence({"user": self.user, "cursor": None, "selection": [], "dragging": None})
        if wait_synced:
            await asyncio.wait_for(self.synced.wait(), timeout)
        return self

    async def roundtrip(self, timeout: float = 5) -> None:
        """Until the server answers a sync step 1 sent now. It handles one connection's messages in
        order, so by then it has handled (applied, dropped, broadcast) everything sent before."""
        self.synced.clear()
        self._out.put_nowait(p.sync_step1(self.doc.get_state()))
        await asyncio.wait_for(self.synced.wait(), timeout)

    def set_presence(self, state: dict[str, Any] | None) -> None:
        self._clock += 1
        self._out.put_nowait(p.awareness(p.encode_awareness([p.AwarenessEntry(self.client_id, self._clock, state)])))

    def edit(self, fn: Callable[[Doc], None]) -> None:
        with self.doc.transaction():
            fn(self.doc)

    def _local_update(self, event: Any) -> None:
        if not self._remote and self.ws is not None:
            self._out.put_nowait(p.sync_update(event.update))

    def _apply(self, update: bytes) -> None:
        self._remote = True
        try:
            self.doc.apply_update(update)
        finally:
            self._remote = False

    async def _writer(self) -> None:
        while True:
            message = await self._out.get()
            if self._max_delay:
                await asyncio.sleep(self._rng.uniform(0, self._max_delay))
            await self.ws.send(message)

    async def _reader(self) -> None:
        try:
            async for data in self.ws:
                self.received += 1
                msg = p.decode(data)
                if msg.type == p.SYNC and msg.sub_type == p.STEP1:
                    self._out.put_nowait(p.sync_step2(self.doc.get_update(msg.payload)))
                elif msg.type == p.SYNC:
                    self._apply(msg.payload)
                    if msg.sub_type == p.STEP2:
                        self.synced.set()
                elif msg.type == p.AWARENESS:
                    for e in p.decode_awareness(msg.payload):
                        cur = self.presence.get(e.client_id)
                        if e.state is None:
                            if cur is not None and e.clock >= cur[0]:
                                del self.presence[e.client_id]
                        elif cur is None or e.clock > cur[0]:
                            self.presence[e.client_id] = (e.clock, e.state)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()

    def people(self) -> set[str]:
        """User ids shown as present (states with a user)."""
        return {s["user"]["id"] for _, s in self.presence.values() if isinstance(s.get("user"), dict)}

    async def drain(self) -> None:
        """Wait until every queued message has been handed to the socket."""
        while not self._out.empty():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.drain()
        if self.ws is not None:
            await self.ws.close()
        await self._stop_tasks()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a crashed tab, a lost network)."""
        self.ws.transport.abort()

    async def _stop_tasks(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(BaseException):
                await t
        self._tasks = []
