"""Rooms shared between app replicas through Redis (MAILY_REDIS_URL; docs/collab.md).

Every room has a Redis stream, `maily:collab:<workflow_id>`. A replica appends to it each
document update it accepted (from its own clients or a REST edit) and each presence change of
its own clients: entry `{o: replica id, k: "u" | "a", d: bytes}`. Every replica holding the
room reads the stream and applies the other replicas' entries to its Doc and presence.

Streams, not pub/sub, because a stream keeps what was said: a replica opening a room reads
the whole retained stream after loading the stored document (`catch_up`), so an update
another replica accepted but has not written to the database yet is in the Doc before the
new client's sync step 1 is answered, and a reader that lost Redis for a moment continues
from the last id it read instead of missing what was published meanwhile. Entries are kept
for RETAIN_S (every replica holding a room writes what it applied within about a second:
backend/collab/rooms.py), and a stream nobody writes to expires.

Each replica renews a heartbeat key, `maily:collab:alive:<replica id>`, every ALIVE_EVERY_S
with a time-to-live of ALIVE_TTL_S: a replica killed without closing its sockets leaves
presence states that nobody will remove, and the others drop them once its key has expired
(rooms.RoomManager), a few seconds after the kill instead of the 30 s of y-protocols' timeout.

One reader task per replica blocks on XREAD over the streams of all its open rooms plus a
per-replica wake stream, written when a room is opened so the read starts covering it at once.
Updates are CRDT updates: applying one twice, or in any order, gives the same document.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from typing import Any, Protocol

log = logging.getLogger("maily.collab")

PREFIX = "maily:collab:"
RETAIN_S = 120.0        # an entry is in the database (every holder's flush) long before this
EXPIRE_S = 600          # a stream nobody wrote to for this long is deleted
BLOCK_MS = 5_000        # the reader's XREAD wait when nothing happens
ALIVE_EVERY_S = 1.0     # heartbeat period
ALIVE_TTL_S = 3.0       # a replica whose heartbeat is this old is dead
UPDATE, AWARENESS = b"u", b"a"


class SharedRoom(Protocol):
    def apply_remote(self, kind: bytes, data: bytes, age_s: float, origin: bytes) -> None: ...


def _alive_key(replica: bytes) -> str:
    return f"{PREFIX}alive:{replica.decode()}"


def _age_s(entry_id: bytes) -> float:
    return max(0.0, time.time() - int(entry_id.split(b"-")[0]) / 1000)


class RoomBus:
    """This replica's link to the rooms' streams: publish, catch up, follow."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.replica = f"{os.getpid()}-{uuid.uuid4().hex[:8]}".encode()
        self._wake_key = f"{PREFIX}wake:{self.replica.decode()}"
        self._redis: Any = None
        self._blocking: Any = None
        self._rooms: dict[str, tuple[SharedRoom, bytes]] = {}   # workflow id -> (room, last id read)
        self._outbox: asyncio.Queue[tuple[str, bytes, bytes]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(self.url, socket_connect_timeout=3, socket_timeout=10)
        # the reader's connection waits up to BLOCK_MS for an answer by design
        self._blocking = redis.from_url(self.url, socket_connect_timeout=3, socket_timeout=BLOCK_MS / 1000 + 10)
        await self._redis.ping()
        self._tasks = [asyncio.create_task(self._read(), name="collab-redis-reader"),
                       asyncio.create_task(self._publish(), name="collab-redis-publisher"),
                       asyncio.create_task(self._heartbeat(), name="collab-redis-heartbeat")]

    async def stop(self) -> None:
        while not self._outbox.empty() and not self._tasks[1].done():   # what was accepted goes out
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._redis is not None:
            try:   # gone now, not in ALIVE_TTL_S (its clients' states were removed as they left)
                await self._redis.delete(_alive_key(self.replica))
            except Exception:  # noqa: BLE001
                pass
            await self._redis.aclose()
            await self._blocking.aclose()

    # --- writing -------------------------------------------------------------------------

    def publish(self, workflow_id: str, kind: bytes, data: bytes) -> None:
        """Append to the room's stream, in order, from the background publisher."""
        self._outbox.put_nowait((workflow_id, kind, data))

    async def _publish(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            minid = int((time.time() - RETAIN_S) * 1000)
            for attempt in range(50):   # Redis away for a moment: keep the order, try again
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for workflow_id, kind, data in batch:
                            key = PREFIX + workflow_id
                            pipe.xadd(key, {"o": self.replica, "k": kind, "d": data}, minid=minid, approximate=True)
                            pipe.expire(key, EXPIRE_S)
                        await pipe.execute()
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    log.warning("collab: publishing %d entries to Redis failed (%s); retrying", len(batch), exc)
                    await asyncio.sleep(min(0.1 * (attempt + 1), 2.0))

    async def _heartbeat(self) -> None:
        while True:
            try:
                await self._redis.set(_alive_key(self.replica), b"1", px=int(ALIVE_TTL_S * 1000))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis away for a moment: the next beat
                log.warning("collab: renewing this replica's heartbeat in Redis failed (%s)", exc)
            await asyncio.sleep(ALIVE_EVERY_S)

    async def alive(self, replicas: set[bytes]) -> set[bytes]:
        """Those of `replicas` whose heartbeat has not expired."""
        ordered = sorted(replicas)
        found = await self._redis.mget([_alive_key(r) for r in ordered])
        return {r for r, value in zip(ordered, found) if value is not None}

    # --- reading -------------------------------------------------------------------------

    async def catch_up(self, workflow_id: str) -> tuple[list[tuple[bytes, bytes, float, bytes]], bytes]:
        """The other replicas' retained entries of the room, as (kind, data, age in s, replica),
        and the id to follow from."""
        entries = await self._redis.xrange(PREFIX + workflow_id)
        last = entries[-1][0] if entries else b"0-0"
        return [(f[b"k"], f[b"d"], _age_s(i), f[b"o"]) for i, f in entries if f.get(b"o") != self.replica], last

    def follow(self, workflow_id: str, room: SharedRoom, last_id: bytes) -> None:
        """Apply the room's entries after `last_id` as they come."""
        self._rooms[workflow_id] = (room, last_id)
        self.publish_wake()

    def unfollow(self, workflow_id: str) -> bytes | None:
        """Stop applying the room's entries; returns the last id read (None: not followed)."""
        followed = self._rooms.pop(workflow_id, None)
        return followed[1] if followed is not None else None

    def publish_wake(self) -> None:
        self._outbox.put_nowait(("wake:" + self.replica.decode(), b"w", b""))

    async def _read(self) -> None:
        wake_id = b"0-0"
        while True:
            streams = {PREFIX + w: last for w, (_, last) in self._rooms.items()}
            streams[self._wake_key] = wake_id
            try:
                answer = await self._blocking.xread(streams, block=BLOCK_MS, count=1_000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis restarted: read on from the last ids
                log.warning("collab: reading the rooms' streams from Redis failed (%s); retrying", exc)
                await asyncio.sleep(0.5)
                continue
            for key, entries in answer or []:
                key = key.decode() if isinstance(key, bytes) else key
                if key == self._wake_key:
                    wake_id = entries[-1][0]
                    continue
                workflow_id = key[len(PREFIX):]
                followed = self._rooms.get(workflow_id)
                if followed is None:
                    continue   # closed meanwhile
                room = followed[0]
                self._rooms[workflow_id] = (room, entries[-1][0])
                for entry_id, fields in entries:
                    if fields.get(b"o") == self.replica:
                        continue
                    try:
                        room.apply_remote(fields[b"k"], fields[b"d"], _age_s(entry_id), fields[b"o"])
                    except BaseException as exc:  # noqa: BLE001 - pycrdt panics are BaseExceptions
                        if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
                            raise
                        log.exception("collab %s: could not apply a shared entry", workflow_id)
