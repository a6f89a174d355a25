"""Bounds on what a Yjs update or awareness state may carry, checked before pycrdt applies it."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from pycrdt import Array, Doc, Map, Text

from backend.collab import protocol as p
from backend.collab.limits import MAX_UPDATE_DEPTH, UpdateRefused, check_update
from tests.backend.collab.test_endpoint import eventually, label, set_label, url
from tests.backend.collab.yclient import YClient


def _var_uint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def deep_update(depth: int, client: int = 424242) -> bytes:
    """A v1 update: one ContentAny item in root map `nodes`, an array nested `depth` levels deep
    (as docs/repro/pycrdt_deep_nesting.py; pycrdt segfaults applying it from ~30,000 levels)."""
    value = b"\x75\x01" * depth + b"\x7e"
    item = bytes([8 | 0x20]) + b"\x01" + _var_uint(5) + b"nodes" + b"\x04deep" + b"\x01" + value
    return b"\x01\x01" + _var_uint(client) + b"\x00" + item + b"\x00"


def _valid_update() -> bytes:
    doc = Doc()
    m = doc.get("nodes", type=Map)
    with doc.transaction():
        m["a"] = {"x": [1, 2.5, "s", None, True, {"k": [{}]}], "big": 2**40, "neg": -7}
        m["t"] = Text("héllo")
        m["arr"] = Array([1, {"a": 2}])
    del m["a"]
    return doc.get_update()


def test_valid_updates_pass_and_deep_truncated_or_trailing_ones_are_refused():
    """A real document's update passes; nesting past the bound, every truncation and trailing bytes are refused."""
    update = _valid_update()
    check_update(update)
    check_update(deep_update(MAX_UPDATE_DEPTH - 1))
    for depth in (MAX_UPDATE_DEPTH + 1, 100_000):
        with pytest.raises(UpdateRefused, match="nested deeper"):
            check_update(deep_update(depth))
    for cut in range(1, len(update)):
        with pytest.raises(UpdateRefused):
            check_update(update[:cut])
    with pytest.raises(UpdateRefused):
        check_update(update + b"\x00")


def test_a_deep_awareness_state_is_refused():
    """An awareness entry whose JSON state nests past the bound is refused before json.loads."""
    state = ("[" * 10_000 + "]" * 10_000).encode()
    update = _var_uint(1) + _var_uint(5) + _var_uint(1) + _var_uint(len(state)) + state
    with pytest.raises(UpdateRefused):
        p.decode_awareness(update)


async def test_a_deep_update_closes_its_sender_and_the_room_keeps_serving(live_server, workflow, tenant_a):
    """The 100,000-deep update that segfaults pycrdt is refused: its sender is closed with 1008,
    the process lives on and two other clients keep converging."""
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    b = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    try:
        async with websockets.connect(url(live_server, workflow, tenant_a.editor), max_size=None) as bad:
            await bad.send(p.sync_update(deep_update(100_000)))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(bad.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert "nested deeper" in closed.value.rcvd.reason
        a.edit(set_label("still serving"))
        await eventually(lambda: label(b) == "still serving")
        assert "deep" not in b.doc.get("nodes", type=Map)
        c = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
        assert label(c) == "still serving" and "deep" not in c.doc.get("nodes", type=Map)
        await c.close()
    finally:
        await a.close()
        await b.close()


def _map_set(client: int, clock: int, root: bytes, key: bytes, *, right: tuple[int, int] | None = None,
             parent: tuple[int, int] | None = None, values: int = 1) -> bytes:
    """One ContentAny item written as a forger would: in a root or a parent item, or after a right origin."""
    if right is not None:
        head = bytes([8 | 0x40]) + _var_uint(right[0]) + _var_uint(right[1])
    elif parent is not None:
        head = bytes([8 | 0x20]) + b"\x00" + _var_uint(parent[0]) + _var_uint(parent[1]) + _var_uint(len(key)) + key
    else:
        head = bytes([8 | 0x20]) + b"\x01" + _var_uint(len(root)) + root + _var_uint(len(key)) + key
    item = head + _var_uint(values) + b"\x7d\x05" * values
    return b"\x01\x01" + _var_uint(client) + _var_uint(clock) + item + b"\x00"


def _first_client(state: bytes) -> int:
    """The first client id of a state vector (count, then client/clock var-uints)."""
    value, shift, pos = 0, 0, 1  # skip the count (one byte for a few clients)
    while True:
        b = state[pos]
        value |= (b & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if b < 0x80:
            return value


def test_forged_shapes_the_editor_never_writes_are_marked():
    """Right origins and Y.Text are marked foreign; a keyed map entry in a root, as the editor writes it, is not."""
    assert check_update(_map_set(7, 0, b"nodes", b"k")).foreign is None
    assert "right origin" in check_update(_map_set(7, 0, b"nodes", b"k", right=(1, 0))).foreign
    text = Doc()
    text.get("nodes", type=Map)["t"] = Text("x")
    assert check_update(text.get_update()).foreign is not None


@pytest.mark.parametrize("forged", ["right_origin", "parent_not_a_type"])
async def test_a_forged_update_closes_its_sender_and_the_room_keeps_serving(live_server, workflow, tenant_a, forged):
    """An update with a shape the editor never writes is refused (1008) before pycrdt sees it, and
    one pycrdt itself refuses (a parent that is a plain value) closes its sender with 1008 too."""
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    server = _first_client(a.doc.get_state())  # the server's: the only one that wrote the document
    update = {"right_origin": _map_set(7, 0, b"nodes", b"k", right=(server, 0)),
              # the document's first item is meta's schema_version: a number, not a map
              "parent_not_a_type": _map_set(7, 0, b"", b"k", parent=(server, 0))}[forged]
    try:
        async with websockets.connect(url(live_server, workflow, tenant_a.editor), max_size=None) as bad:
            await bad.send(p.sync_update(update))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(bad.recv(), 5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        a.edit(set_label("after the forgery"))
        b = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
        await eventually(lambda: label(b) == "after the forgery")
        assert "k" not in b.doc.get("nodes", type=Map)
        await b.close()
    finally:
        await a.close()
