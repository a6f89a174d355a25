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


class _Unseeded(Exception):
    """A check for a room this process holds no replica of (the app must send the seed)."""


def _read(stream, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError
    return data


def _blobs(body: bytes, pos: int) -> tuple[list[bytes], int]:
    (count,), pos, out = _U32.unpack_from(body, pos), pos + 4, []
    for _ in range(count):
        (n,) = _U32.unpack_from(body, pos)
        out.append(body[pos + 4:pos + 4 + n])
        pos += 4 + n
    return out, pos


def _read_back(doc: Doc, roots: list[str]) -> None:
    """What the app does with a document after updates: read every root's values, encode it
    whole. pycrdt's crashes on corrupted documents happen in these reads (in `str` of a root
    holding a forged item, not only in apply_update); reading only what an update changed, or
    encoding without reading the values, let every corrupted replica of the repro live."""
    for name in roots:
        str(doc.get(name, type=Map))
    doc.get_update()


def _apply(replicas: dict[bytes, Doc], blobs: list[bytes]) -> bytes:
    """One check's blobs (room, seed, *backlog, update): applied to the room's replica. Returns
    what the update changed, as this process encodes it (what the app applies instead of the
    bytes it received: items as yrs integrated them, not as they were forged)."""
    room, seed, backlog, update = blobs[0], blobs[1], blobs[2:-1], blobs[-1]
    if seed:
        replicas[room] = doc = Doc()
        doc.apply_update(seed)
    elif room not in replicas:
        raise _Unseeded
    else:
        doc = replicas[room]
    for earlier in backlog:
        doc.apply_update(earlier)
    before = doc.get_state()
    doc.apply_update(update)
    return doc.get_update(before)


def _serve(replicas: dict[bytes, Doc], body: bytes, roots: list[str]) -> tuple[int, bytes]:
    op = body[:1]
    if op == b"D":                                 # drop a room's replica
        replicas.pop(_blobs(body, 1)[0][0], None)
        return 0, b""
    # b"C": one check; b"B": u32 k then k checks (the rooms read back once each, at the end)
    checks, pos = (1, 1) if op == b"C" else (_U32.unpack_from(body, 1)[0], 5)
    touched: list[bytes] = []
    changes = [_U32.pack(checks)]
    try:
        for _ in range(checks):
            blobs, pos = _blobs(body, pos)
            touched.append(blobs[0])
            change = _apply(replicas, blobs)
            changes += [_U32.pack(len(change)), change]
        for room in dict.fromkeys(touched):
            _read_back(replicas[room], roots)
    except BaseException as exc:  # noqa: BLE001 - pycrdt errors, yrs panics (PanicException)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        for room in touched:                       # half-applied, maybe: seeded again next time
            replicas.pop(room, None)
        if isinstance(exc, _Unseeded):
            return 2, b""
        return 1, f"{type(exc).__name__}: {exc}"[:200].encode("utf-8", "replace")
    return 0, b"".join(changes)


def main(roots: list[str]) -> None:
    replicas: dict[bytes, Doc] = {}
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            (size,) = _U32.unpack(_read(stdin, 4))
            body = _read(stdin, size)
        except EOFError:
            return
        status, message = _serve(replicas, body, roots)
        stdout.write(bytes([status]) + _U32.pack(len(message)) + message)
        stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
