"""The sacrificial process of backend/collab/sandbox.py: replicas of the rooms' documents, on which
every co-editing update is applied (and the document read back) before the app applies it.

Run as a script (`python sandbox_worker.py ROOT...`): it imports pycrdt only, nothing of the app.
Requests on stdin, replies on stdout (framing: see sandbox.py). If pycrdt crashes this process,
the app sees the pipe close and refuses the update; its own document never saw it.
"""

from __future__ import annotations

import struct
import sys

from pycrdt import Doc, Map

_U32 = struct.Struct("<I")


def _read(stream, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError
    return data


def _blobs(body: bytes) -> list[bytes]:
    (count,), pos, out = _U32.unpack_from(body, 1), 5, []
    for _ in range(count):
        (n,) = _U32.unpack_from(body, pos)
        out.append(body[pos + 4:pos + 4 + n])
        pos += 4 + n
    return out


def _read_back(doc: Doc, roots: list[str]) -> None:
    """What the app does with a document after an update: read every root, encode it whole
    (pycrdt's crashes on corrupted documents were in these, not only in apply_update)."""
    for name in roots:
        str(doc.get(name, type=Map))
    doc.get_update()


def main(roots: list[str]) -> None:
    replicas: dict[bytes, Doc] = {}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            (size,) = _U32.unpack(_read(stdin, 4))
            body = _read(stdin, size)
        except EOFError:
            return
        blobs = _blobs(body)
        status, message = 0, b""
        if body[:1] == b"D":                       # drop a room's replica
            replicas.pop(blobs[0], None)
        else:                                      # check: room, seed, *backlog, update
            room, seed, backlog, update = blobs[0], blobs[1], blobs[2:-1], blobs[-1]
            try:
                if seed:
                    replicas[room] = doc = Doc()
                    doc.apply_update(seed)
                    for earlier in backlog:
                        doc.apply_update(earlier)
                elif room not in replicas:         # the app thought it seeded: ask for the seed
                    status = 2
                else:
                    doc = replicas[room]
                    for earlier in backlog:
                        doc.apply_update(earlier)
                if status == 0:
                    doc.apply_update(update)
                    _read_back(doc, roots)
            except BaseException as exc:  # noqa: BLE001 - pycrdt errors, yrs panics (PanicException)
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                replicas.pop(room, None)           # half-applied, maybe: seeded again next time
                status, message = 1, f"{type(exc).__name__}: {exc}"[:200].encode("utf-8", "replace")
        stdout.write(bytes([status]) + _U32.pack(len(message)) + message)
        stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
