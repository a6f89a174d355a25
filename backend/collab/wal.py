"""A write-ahead log per open room: every accepted co-editing update is appended to a local file
before it is broadcast, so an update a client has received survives a SIGKILL of the app.

The room batches its database writes (one row a second, backend/collab/rooms.py); the log covers
that second. A write goes to the kernel with one `os.write` (no fsync: the log outlives the app
process, not the machine; a machine's loss is the database's business). After a flush commits,
the log is emptied when nothing arrived meanwhile (replaying an update twice is harmless: CRDT
updates are idempotent). A room that closes cleanly deletes its log. At the next open of that
workflow, logs left by a process that is gone are applied to the stored document, written to the
database and deleted.

A record is a 4-byte big-endian length and the update; a record cut short by the kill is ignored.
File name: `<workflow_id>.<pid>.<random>.wal` in `<data_dir>/collab-wal/`; a file whose pid is
alive and not this process belongs to another app process on this host, and is left alone.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from flows.pids import pid_alive



def read_records(data: bytes) -> list[bytes]:
    records, at = [], 0
    while at + 4 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        if at + 4 + size > len(data):
            break   # the last record was cut short by the kill: it was never broadcast
        records.append(data[at + 4:at + 4 + size])
        at += 4 + size
    return records


_OPEN: set[Path] = set()   # the logs of the rooms open in this process (tests run several apps in one)


class WriteAheadLog:
    def __init__(self, directory: Path, workflow_id: str):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{workflow_id}.{os.getpid()}.{uuid.uuid4().hex[:12]}.wal"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.size = 0
        _OPEN.add(self.path)

    def append(self, update: bytes) -> None:
        record = len(update).to_bytes(4, "big") + update
        os.write(self._fd, record)
        self.size += len(record)

    def flushed(self, upto: int) -> None:
        """The first `upto` bytes are in the database: empty the log if that is all of it."""
        if upto and self.size == upto:
            os.ftruncate(self._fd, 0)
            self.size = 0

    def close(self) -> None:
        """The room is written out: the log is of no further use."""
        os.close(self._fd)
        _OPEN.discard(self.path)
        self.path.unlink(missing_ok=True)


def leftovers(directory: Path, workflow_id: str) -> list[tuple[Path, list[bytes]]]:
    """The logs of this workflow that a process left behind (it is gone), with their updates."""
    found = []
    for path in sorted(directory.glob(f"{workflow_id}.*.wal")) if directory.is_dir() else []:
        try:
            pid = int(path.name.split(".")[1])
        except (IndexError, ValueError):
            continue
        if path in _OPEN or (pid != os.getpid() and pid_alive(pid)):
            continue   # an open room's, here or in another live app process on this host
        found.append((path, read_records(path.read_bytes())))
    return found
