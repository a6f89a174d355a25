"""Every co-editing update is applied first in a sacrificial process (issue 12, item 1).

pycrdt (yrs, a Rust extension) can crash the process on some forged but well-formed updates,
not always while applying them: a later read of the document trips over what they left
(docs/security.md, "The second pycrdt crash"). So a room's update reaches the room's document
only after a worker process (sandbox_worker.py) applied it to its replica of that document and
read the document back without dying. If the worker dies (or takes longer than CHECK_TIMEOUT),
the update is refused, the worker is started again, and each room's replica is seeded again
from the room's document (its last good state) on its next update: the room keeps serving.

A few worker processes serve all the rooms of this app process (a room always goes to the same
one). Each has one request in flight at a time; the updates that arrived meanwhile go as the next
request, together (a batch: each room touched is read back once, so a busy worker's cost per
update falls). If a batch fails, the worker is restarted and its updates are checked one by one.
A room applies an admitted update before the next request to its worker is built, so a replica
sees the room's updates in the room's order.
Updates the server makes itself (REST saves, restores) reach the replica with the room's next
request (`backlog`).

Framing on the pipes: request = u32 size, then op (b"C" check, b"D" drop, b"B" batch: u32 k and
k checks), each check or drop as u32 count and `count` blobs (u32 size + bytes); a check's blobs:
room id, seed (empty: the replica is current), earlier server updates, the update. Reply = status (0 admitted, 1 refused, 2 no replica:
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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from backend.collab.limits import UpdateRefused

log = logging.getLogger("maily.collab")

WORKER = Path(__file__).with_name("sandbox_worker.py")
ROOTS = ("meta", "nodes", "edges", "notes")
CHECK_TIMEOUT = 10.0   # a 10 MB update applies in well under a second; past this the worker is killed
WORKERS = max(1, min(2, os.cpu_count() or 1))
MAX_BATCH = 64         # updates checked in one request at most
REFUSED = "the update could not be applied"
_U32 = struct.Struct("<I")


def _blobs(blobs: list[bytes]) -> list[bytes]:
    parts = [_U32.pack(len(blobs))]
    for blob in blobs:
        parts += [_U32.pack(len(blob)), blob]
    return parts


def _request(op: bytes, *checks: list[bytes]) -> bytes:
    parts = [op] + ([_U32.pack(len(checks))] if op == b"B" else [])
    for blobs in checks:
        parts += _blobs(blobs)
    body = b"".join(parts)
    return _U32.pack(len(body)) + body


def _changes(message: bytes) -> list[bytes]:
    """A check's or a batch's reply: u32 count, then each re-encoded update (u32 size + bytes)."""
    (count,), pos, out = _U32.unpack_from(message, 0), 4, []
    for _ in range(count):
        (n,) = _U32.unpack_from(message, pos)
        out.append(message[pos + 4:pos + 4 + n])
        pos += 4 + n
    return out


@dataclass
class _Check:
    room_id: str
    update: bytes
    seed: Callable[[], bytes]
    backlog: Callable[[], list[bytes]]
    future: asyncio.Future[bytes]


class _Worker:
    """One sacrificial process, the rooms whose replicas it holds, and the checks waiting for it."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()  # one request in flight
        self.seeded: set[str] = set()
        self.starts = 0
        self.deaths = 0
        self.batches = 0
        self.queue: list[_Check] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self.proc is None or self.proc.returncode is not None:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, str(WORKER), *ROOTS, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            self.seeded.clear()
            self.starts += 1
        return self.proc

    # --- requests ----------------------------------------------------------------------------

    async def call(self, request: bytes) -> tuple[int, bytes] | None:
        """Send one request, return (status, message); None if the worker died or timed out."""
        async with self.lock:
            proc = await self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(request)
                await proc.stdin.drain()
                async with asyncio.timeout(CHECK_TIMEOUT):
                    head = await proc.stdout.readexactly(5)
                    message = await proc.stdout.readexactly(_U32.unpack_from(head, 1)[0])
            except (asyncio.IncompleteReadError, ConnectionError, TimeoutError) as exc:
                await self._kill()
                self.deaths += 1
                log.warning("collab sandbox: the worker died on an update (%s; exit code %s); restarting it",
                            type(exc).__name__, proc.returncode)
                return None
            except BaseException:  # cancelled mid-request: its reply would be read as the next one's
                self._abandon()
                raise
            return head[0], message

    def _abandon(self) -> None:
        proc, self.proc = self.proc, None
        self.seeded.clear()
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    async def _kill(self) -> None:
        proc, self.proc = self.proc, None
        self.seeded.clear()
        if proc is not None:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await proc.wait()

    def _blobs(self, check: _Check, fresh_rooms: set[str]) -> list[bytes]:
        """A check's blobs; seeds the room's replica unless it is current (or seeded earlier in
        the same request: `fresh_rooms`)."""
        earlier = check.backlog()
        fresh = check.room_id not in self.seeded and check.room_id not in fresh_rooms
        fresh_rooms.add(check.room_id)
        return [check.room_id.encode(), check.seed() if fresh else b"", *([] if fresh else earlier), check.update]

    async def _one(self, check: _Check) -> bytes | None:
        """The update as the worker re-encoded it, or None: refused."""
        for _ in range(2):
            answer = await self.call(_request(b"C", self._blobs(check, set())))
            if answer is None:
                return None
            status, message = answer
            if status == 0:
                self.seeded.add(check.room_id)
                return _changes(message)[0]
            self.seeded.discard(check.room_id)  # the worker dropped its replica (or had none)
            if status == 1:
                log.warning("collab %s: pycrdt refused an update in the sandbox: %s", check.room_id,
                            message.decode("utf-8", "replace"))
                return None
        return None

    async def _batch(self, checks: list[_Check]) -> list[bytes] | None:
        fresh: set[str] = set()
        answer = await self.call(_request(b"B", *(self._blobs(c, fresh) for c in checks)))
        self.batches += 1
        if answer is not None and answer[0] == 0:
            self.seeded.update(fresh)
            return _changes(answer[1])
        await self._kill()  # replicas dropped or half-applied: start afresh, then one by one
        return None

    # --- the queue ---------------------------------------------------------------------------

    def submit(self, check: _Check) -> None:
        self.queue.append(check)
        self._wakeup.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="collab-sandbox")

    def _resolve(self, check: _Check, change: bytes | None) -> None:
        if check.future.done():  # the caller went away: the room will not apply what its replica did
            if change is not None:
                self.seeded.discard(check.room_id)
        elif change is None:
            check.future.set_exception(UpdateRefused(REFUSED))
        else:
            check.future.set_result(change)

    async def _drain(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self.queue:
                batch = [c for c in self.queue[:MAX_BATCH] if not c.future.done()]
                del self.queue[:MAX_BATCH]
                try:
                    await self._serve(batch)
                except Exception:  # noqa: BLE001 - a bug here must not leave every room waiting
                    log.exception("collab sandbox: checking a batch failed; refusing it")
                    await self._kill()
                    for check in batch:
                        self._resolve(check, None)

    async def _serve(self, batch: list[_Check]) -> None:
        changes = await self._batch(batch) if len(batch) > 1 else None
        if changes is not None:
            for check, change in zip(batch, changes):
                self._resolve(check, change)
            await asyncio.sleep(0)  # the rooms apply them before the next request is built
            return
        for check in batch:
            if not check.future.done():
                self._resolve(check, await self._one(check))
                await asyncio.sleep(0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for check in self.queue:
            self._resolve(check, None)
        self.queue.clear()
        async with self.lock:
            proc = self.proc
            if proc is not None and proc.returncode is None and proc.stdin is not None:
                proc.stdin.close()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(2):
                        await proc.wait()
            await self._kill()


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
        """Worker processes started so far."""
        return sum(w.starts for w in self._workers)

    @property
    def batches(self) -> int:
        """Requests that carried more than one update."""
        return sum(w.batches for w in self._workers)

    async def start(self) -> None:
        """Start the workers now (a first update would otherwise wait for a process to start)."""
        for worker in self._workers:
            async with worker.lock:
                await worker._ensure()

    async def check(self, room_id: str, update: bytes, seed: Callable[[], bytes],
                    backlog: Callable[[], list[bytes]]) -> bytes:
        """Apply `update` to the room's replica and read the replica back; returns what the update
        changed there, re-encoded by the worker: the bytes the room applies. Raises UpdateRefused
        if the worker died, hung or pycrdt refused it. `seed()`: the room's document as one update;
        `backlog()`: the server's own updates the replica has not seen (taken: the caller forgets them)."""
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._worker(room_id).submit(_Check(room_id, update, seed, backlog, future))
        return await future

    def forget(self, room_id: str) -> None:
        """The room did not apply an update its replica holds: seed the replica again next time."""
        self._worker(room_id).seeded.discard(room_id)

    async def drop(self, room_id: str) -> None:
        """The room closed: free its replica."""
        worker = self._worker(room_id)
        if room_id in worker.seeded and worker.proc is not None and worker.proc.returncode is None:
            worker.seeded.discard(room_id)
            await worker.call(_request(b"D", [room_id.encode()]))

    async def stop(self) -> None:
        for worker in self._workers:
            await worker.stop()
