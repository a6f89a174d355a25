"""Every co-editing update is applied first in a sacrificial process (issue 12, item 1).

pycrdt (yrs, a Rust extension) can crash the process on some forged but well-formed updates,
not always while applying them: a later read of the document trips over what they left
(docs/security.md, "The second pycrdt crash"). So a room's update reaches the room's document
only after a worker process (sandbox_worker.py) applied it to its replica of that document and
read the document back without dying. If the worker dies (or takes longer than CHECK_TIMEOUT),
the update is refused, the worker is started again, and each room's replica is seeded again
from the room's document (its last good state) on its next update: the room keeps serving.

A few worker processes serve all the rooms of this app process (a room always goes to the same
one). Each has one request in flight at a time; the room applies an admitted update before the
next request to that worker is sent, so a replica sees the updates in the room's order.
Updates the server makes itself (REST saves, restores) reach the replica with the room's next
request (`backlog`).

Framing on the pipes: request = u32 size, then op (b"C" check, b"D" drop), u32 count, and
`count` blobs (u32 size + bytes); check's blobs: room id, seed (empty: the replica is current),
earlier server updates, the update. Reply = status (0 admitted, 1 refused, 2 no replica:
send the seed), u32 size, message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
import sys
import zlib
from pathlib import Path
from typing import Callable

log = logging.getLogger("maily.collab")

WORKER = Path(__file__).with_name("sandbox_worker.py")
ROOTS = ("meta", "nodes", "edges", "notes")
CHECK_TIMEOUT = 10.0   # a 10 MB update applies in well under a second; past this the worker is killed
WORKERS = max(1, min(2, os.cpu_count() or 1))
_U32 = struct.Struct("<I")


def _request(op: bytes, blobs: list[bytes]) -> bytes:
    parts = [op, _U32.pack(len(blobs))]
    for blob in blobs:
        parts += [_U32.pack(len(blob)), blob]
    body = b"".join(parts)
    return _U32.pack(len(body)) + body


class _Worker:
    """One sacrificial process and the rooms whose replicas it holds."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()
        self.seeded: set[str] = set()
        self.starts = 0
        self.deaths = 0

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self.proc is None or self.proc.returncode is not None:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, str(WORKER), *ROOTS, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            self.seeded.clear()
            self.starts += 1
        return self.proc

    async def call(self, op: bytes, blobs: list[bytes]) -> tuple[int, str] | None:
        """Send one request, return (status, message); None if the worker died or timed out."""
        proc = await self._ensure()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(_request(op, blobs))
            await proc.stdin.drain()
            async with asyncio.timeout(CHECK_TIMEOUT):
                head = await proc.stdout.readexactly(5)
                message = await proc.stdout.readexactly(_U32.unpack_from(head, 1)[0])
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError) as exc:
            await self.stop()
            self.deaths += 1
            log.warning("collab sandbox: the worker died on an update (%s; exit code %s); restarting it",
                        type(exc).__name__, self.proc.returncode if self.proc else None)
            return None
        except BaseException:  # cancelled mid-request: its reply would be read as the next one's
            self._abandon()
            raise
        return head[0], message.decode("utf-8", "replace")

    def _abandon(self) -> None:
        proc, self.proc = self.proc, None
        self.seeded.clear()
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        self.seeded.clear()
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        await proc.wait()
        self.proc = proc  # keeps returncode for the log; _ensure starts a new one


class Sandbox:
    """The pool of sacrificial workers of one RoomManager."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._workers = [_Worker() for _ in range(workers)]

    def _worker(self, room_id: str) -> _Worker:
        return self._workers[zlib.crc32(room_id.encode()) % len(self._workers)]

    @property
    def deaths(self) -> int:
        """Workers that died on (or timed out over) an update: crashes the app survived."""
        return sum(w.deaths for w in self._workers)

    @property
    def starts(self) -> int:
        """Worker processes started so far (tests read it: a restart is a crash survived)."""
        return sum(w.starts for w in self._workers)

    async def start(self) -> None:
        """Start the workers now (a first update would otherwise wait for a process to start)."""
        for worker in self._workers:
            async with worker.lock:
                await worker._ensure()

    async def check(self, room_id: str, update: bytes, seed: Callable[[], bytes],
                    backlog: Callable[[], list[bytes]]) -> str | None:
        """Apply `update` to the room's replica; None if it was applied and read back, else why not.
        `seed()`: the room's document as one update; `backlog()`: the server's own updates the
        replica has not seen (taken: the caller forgets them)."""
        worker = self._worker(room_id)
        async with worker.lock:
            earlier = backlog()
            for _ in range(2):
                fresh = room_id not in worker.seeded
                answer = await worker.call(b"C", [room_id.encode(), seed() if fresh else b"",
                                                  *([] if fresh else earlier), update])
                if answer is None:
                    return "the update could not be applied"
                status, message = answer
                if status == 2:              # the worker has no replica: seed it
                    worker.seeded.discard(room_id)
                    continue
                if status == 0:
                    worker.seeded.add(room_id)
                    return None
                worker.seeded.discard(room_id)  # the worker dropped its replica
                log.warning("collab %s: pycrdt refused an update in the sandbox: %s", room_id, message)
                return "the update could not be applied"
            return "the update could not be applied"

    def forget(self, room_id: str) -> None:
        """The room did not apply an update its replica holds: seed the replica again next time."""
        self._worker(room_id).seeded.discard(room_id)

    async def drop(self, room_id: str) -> None:
        """The room closed: free its replica."""
        worker = self._worker(room_id)
        async with worker.lock:
            if room_id in worker.seeded and worker.proc is not None and worker.proc.returncode is None:
                worker.seeded.discard(room_id)
                await worker.call(b"D", [room_id.encode()])

    async def stop(self) -> None:
        for worker in self._workers:
            async with worker.lock:
                if worker.proc is not None and worker.proc.returncode is None and worker.proc.stdin is not None:
                    worker.proc.stdin.close()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(2):
                            await worker.proc.wait()
                await worker.stop()
