"""The y-websocket wire format (yjs v13, lib0 encoding), on top of pycrdt's helpers.

A WebSocket message is `varuint type` then the payload:
  0 sync:        varuint sub-type (0 step 1, 1 step 2, 2 update), then varUint8Array payload
                 (step 1: a state vector; step 2 and update: a v1 update)
  1 awareness:   varUint8Array of an awareness update
                 (varuint count, then per client: varuint id, varuint clock, varString JSON state)
  3 query awareness: no payload; the answer is an awareness message with every known state
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pycrdt import Decoder, write_var_uint

from backend.collab.limits import check_awareness_state

SYNC, AWARENESS, AUTH, QUERY_AWARENESS = 0, 1, 2, 3
STEP1, STEP2, UPDATE = 0, 1, 2


class ProtocolError(ValueError):
    """A message that is not valid y-websocket."""


@dataclass(frozen=True)
class Message:
    type: int
    sub_type: int | None = None  # sync messages only
    payload: bytes = b""


def _var_bytes(data: bytes) -> bytes:
    return write_var_uint(len(data)) + data


def sync_step1(state_vector: bytes) -> bytes:
    return bytes([SYNC, STEP1]) + _var_bytes(state_vector)


def sync_step2(update: bytes) -> bytes:
    return bytes([SYNC, STEP2]) + _var_bytes(update)


def sync_update(update: bytes) -> bytes:
    return bytes([SYNC, UPDATE]) + _var_bytes(update)


def awareness(update: bytes) -> bytes:
    return bytes([AWARENESS]) + _var_bytes(update)


def query_awareness() -> bytes:
    return bytes([QUERY_AWARENESS])


def decode(message: bytes) -> Message:
    """One y-websocket message. Raises ProtocolError on anything malformed or truncated."""
    try:
        d = Decoder(bytes(message))
        kind = d.read_var_uint()
        if kind == SYNC:
            sub = d.read_var_uint()
            if sub not in (STEP1, STEP2, UPDATE):
                raise ProtocolError(f"unknown sync message type {sub}")
            return Message(SYNC, sub, _read_exact(d))
        if kind == AWARENESS:
            return Message(AWARENESS, None, _read_exact(d))
        if kind in (AUTH, QUERY_AWARENESS):
            return Message(kind)
    except (RuntimeError, IndexError) as exc:  # pycrdt's Decoder raises these on short input
        raise ProtocolError(f"truncated message: {exc}") from exc
    raise ProtocolError(f"unknown message type {kind}")


def _read_exact(d: Decoder) -> bytes:
    length = d.read_var_uint()
    if length > d.length:
        raise ProtocolError("payload shorter than its declared length")
    payload = d.stream[d.i0:d.i0 + length]
    d.i0 += length
    d.length -= length
    return bytes(payload)


@dataclass(frozen=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: dict[str, Any] | None  # None: the client is gone


def decode_awareness(update: bytes) -> list[AwarenessEntry]:
    """The entries of an awareness update (used to track which client ids a connection owns)."""
    try:
        d = Decoder(update)
        entries = []
        for _ in range(d.read_var_uint()):
            client_id, clock = d.read_var_uint(), d.read_var_uint()
            raw_bytes = _read_exact(d)
            check_awareness_state(raw_bytes)  # UpdateRefused: the connection is closed
            raw = raw_bytes.decode("utf-8")
            state = json.loads(raw) if raw else None
            entries.append(AwarenessEntry(client_id, clock, state if isinstance(state, dict) else None))
        return entries
    except (RuntimeError, IndexError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"malformed awareness update: {exc}") from exc


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    # Not pycrdt's Encoder.write_var_string / Awareness.encode_awareness_update: they write the
    # length in characters, not bytes, which corrupts any state with a non-ASCII name ("José").
    out = [write_var_uint(len(entries))]
    for entry in entries:
        state = json.dumps(entry.state, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        out += [write_var_uint(entry.client_id), write_var_uint(entry.clock), _var_bytes(state)]
    return b"".join(out)
