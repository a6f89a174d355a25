"""Bounds checked on a Yjs v1 update BEFORE pycrdt applies it.

pycrdt 0.14.13 (yrs) decodes lib0 `any` values recursively and dies with SIGSEGV on a value
nested ~30,000 levels deep (docs/repro/pycrdt_deep_nesting.py): one frame would kill the app.
So every update is walked here first by an iterative decoder of the whole v1 structure
(struct groups, items and their content, the delete set) that refuses deep nesting, long
strings, oversized updates and malformed or truncated input. Nothing here recurses.
"""

from __future__ import annotations

import re

from flows.graph import MAX_DOCUMENT_BYTES, MAX_STRING

MAX_UPDATE_BYTES = MAX_DOCUMENT_BYTES
MAX_UPDATE_DEPTH = 64                      # nesting of one `any` / JSON value
MAX_UPDATE_STRING_BYTES = 4 * MAX_STRING   # UTF-8: up to 4 bytes per character
MAX_COUNT = MAX_UPDATE_BYTES               # no count can exceed the bytes that would follow it

_JSON_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class UpdateRefused(ValueError):
    """An update (or awareness state) beyond the bounds, or not decodable."""

    def __init__(self, reason: str, *, too_big: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.too_big = too_big  # 1009 (message too big) rather than 1008 (policy violation)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise UpdateRefused("truncated update")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def var_uint(self) -> int:
        value, shift = 0, 0
        while True:
            b = self.byte()
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value
            shift += 7
            if shift > 63:
                raise UpdateRefused("var-uint longer than 64 bits")

    def count(self) -> int:
        n = self.var_uint()
        if n > MAX_COUNT:
            raise UpdateRefused(f"count {n} beyond the update's size")
        return n

    def skip_var_int(self) -> None:
        for _ in range(10):
            if self.byte() < 0x80:
                return
        raise UpdateRefused("var-int longer than 64 bits")

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise UpdateRefused("truncated update")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def buf(self) -> bytes:
        return self.take(self.var_uint())

    def string(self) -> bytes:
        n = self.var_uint()
        if n > MAX_UPDATE_STRING_BYTES:
            raise UpdateRefused(f"string of {n} bytes (at most {MAX_UPDATE_STRING_BYTES})", too_big=True)
        raw = self.take(n)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UpdateRefused("string is not UTF-8") from exc
        return raw

    def json(self) -> None:
        check_json_depth(self.string())

    def any(self) -> None:
        """One lib0 `any` value, walked with an explicit stack of remaining children."""
        stack: list[list[int]] = []  # [children left, 1 if object (a key before each value)]
        while True:
            tag = self.byte()
            if tag in (127, 126, 121, 120):       # undefined, null, false, true
                pass
            elif tag == 125:
                self.skip_var_int()
            elif tag == 124:
                self.take(4)
            elif tag in (123, 122):               # float64, bigint64
                self.take(8)
            elif tag == 119:
                self.string()
            elif tag == 116:
                n = self.var_uint()
                if n > MAX_UPDATE_STRING_BYTES:
                    raise UpdateRefused(f"binary of {n} bytes", too_big=True)
                self.take(n)
            elif tag in (118, 117):               # object, array
                n = self.count()
                if n:
                    if len(stack) >= MAX_UPDATE_DEPTH:
                        raise UpdateRefused(f"value nested deeper than {MAX_UPDATE_DEPTH} levels")
                    stack.append([n, 1 if tag == 118 else 0])
                    if tag == 118:
                        self.string()
                    continue
            else:
                raise UpdateRefused(f"unknown any type {tag}")
            # one value done: climb while the enclosing containers are complete
            while stack:
                top = stack[-1]
                top[0] -= 1
                if top[0]:
                    if top[1]:
                        self.string()
                    break
                stack.pop()
            if not stack:
                return


def check_json_depth(raw: bytes) -> None:
    """Bracket depth of a JSON text (strings skipped), without parsing it."""
    depth = 0
    for match in _JSON_BRACKET.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_UPDATE_DEPTH:
                raise UpdateRefused(f"JSON nested deeper than {MAX_UPDATE_DEPTH} levels")
        elif token in (b"]", b"}"):
            depth -= 1


_XML_ELEMENT, _XML_HOOK = 3, 5


def check_update(update: bytes) -> None:
    """Walk a whole Yjs v1 update; raise UpdateRefused unless it is well-formed and bounded."""
    if len(update) > MAX_UPDATE_BYTES:
        raise UpdateRefused(f"update of {len(update)} bytes (at most {MAX_UPDATE_BYTES})", too_big=True)
    r = _Reader(update)
    for _ in range(r.count()):                     # struct groups, one per client
        structs = r.count()
        r.var_uint(), r.var_uint()                 # client, first clock
        for _ in range(structs):
            info = r.byte()
            ref = info & 0x1F
            if ref in (0, 10):                     # GC, Skip: a length
                r.var_uint()
                continue
            if info & 0x80:                        # origin id
                r.var_uint(), r.var_uint()
            if info & 0x40:                        # right origin id
                r.var_uint(), r.var_uint()
            if not info & 0xC0:                    # parent written out
                if r.var_uint() == 1:
                    r.string()                     # a root type's name
                else:
                    r.var_uint(), r.var_uint()     # the parent item's id
                if info & 0x20:
                    r.string()                     # map key
            _content(r, ref)
    for _ in range(r.count()):                     # delete set
        r.var_uint()
        for _ in range(r.count()):
            r.var_uint(), r.var_uint()
    if r.pos != len(update):
        raise UpdateRefused("bytes after the end of the update")


def _content(r: _Reader, ref: int) -> None:
    if ref == 1:                                   # ContentDeleted
        r.var_uint()
    elif ref == 2:                                 # ContentJSON
        for _ in range(r.count()):
            r.json()
    elif ref == 3:                                 # ContentBinary
        if len(r.buf()) > MAX_UPDATE_STRING_BYTES:
            raise UpdateRefused("binary content too big", too_big=True)
    elif ref == 4:                                 # ContentString
        r.string()
    elif ref == 5:                                 # ContentEmbed
        r.json()
    elif ref == 6:                                 # ContentFormat
        r.string(), r.json()
    elif ref == 7:                                 # ContentType
        if r.var_uint() in (_XML_ELEMENT, _XML_HOOK):
            r.string()
    elif ref == 8:                                 # ContentAny
        for _ in range(r.count()):
            r.any()
    elif ref == 9:                                 # ContentDoc
        r.string(), r.any()
    else:
        raise UpdateRefused(f"unknown content type {ref}")


def check_awareness_state(raw: bytes) -> None:
    """An awareness entry's JSON state: bounded like an update's strings and nesting."""
    if len(raw) > MAX_UPDATE_STRING_BYTES:
        raise UpdateRefused(f"awareness state of {len(raw)} bytes", too_big=True)
    check_json_depth(raw)
