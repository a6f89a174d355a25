"""Bounds checked on a Yjs v1 update BEFORE pycrdt applies it.

pycrdt 0.14.13 (yrs) decodes lib0 `any` values recursively and dies with SIGSEGV on a value
nested ~30,000 levels deep (docs/repro/pycrdt_deep_nesting.py): one frame would kill the app.
So every update is walked here first by an iterative decoder of the whole v1 structure
(struct groups, items and their content, the delete set) that refuses deep nesting, long
strings, oversized updates and malformed or truncated input. Nothing here recurses.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

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

    def text(self) -> bytes:
        """A string the graph would hold (a value or a key): at most MAX_STRING characters, as REST."""
        raw = self.string()
        if len(raw) > MAX_STRING and len(raw.decode("utf-8")) > MAX_STRING:
            raise UpdateRefused(f"a string of more than {MAX_STRING:,} characters", too_big=True)
        return raw

    def json(self) -> int:
        return check_json_depth(self.text())

    def any(self) -> int:
        """One lib0 `any` value, walked with an explicit stack of remaining children; returns
        its nesting depth (a scalar 0, [] 1, [[1]] 2)."""
        stack: list[list[int]] = []  # [children left, 1 if object (a key before each value)]
        deepest = 0
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
                self.text()
            elif tag == 116:
                n = self.var_uint()
                if n > MAX_UPDATE_STRING_BYTES:
                    raise UpdateRefused(f"binary of {n} bytes", too_big=True)
                self.take(n)
            elif tag in (118, 117):               # object, array
                n = self.count()
                deepest = max(deepest, len(stack) + 1)
                if n:
                    if len(stack) >= MAX_UPDATE_DEPTH:
                        raise UpdateRefused(f"value nested deeper than {MAX_UPDATE_DEPTH} levels")
                    stack.append([n, 1 if tag == 118 else 0])
                    if tag == 118:
                        self.text()
                    continue
            else:
                raise UpdateRefused(f"unknown any type {tag}")
            # one value done: climb while the enclosing containers are complete
            while stack:
                top = stack[-1]
                top[0] -= 1
                if top[0]:
                    if top[1]:
                        self.text()
                    break
                stack.pop()
            if not stack:
                return deepest


def check_json_depth(raw: bytes) -> int:
    """Bracket depth of a JSON text (strings skipped), without parsing it; returns the deepest."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > MAX_UPDATE_DEPTH:
                raise UpdateRefused(f"JSON nested deeper than {MAX_UPDATE_DEPTH} levels")
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


_XML_ELEMENT, _XML_HOOK = 3, 5
_Y_MAP = 1
_EDITOR_CONTENT = frozenset({1, 7, 8})  # ContentDeleted, ContentType, ContentAny


def _foreign(info: int) -> str | None:
    """What in an item's info byte a Y.Map-only client never writes. A map entry is written with
    its parent and key, or with a left origin only (the key's previous value): never a right
    origin, never without a key."""
    if info & 0x1F not in _EDITOR_CONTENT:
        return f"content type {info & 0x1F}"
    if info & 0x40:
        return "an item with a right origin"
    if not info & 0x80 and not info & 0x20:
        return "an item without a key"
    return None


@dataclass
class UpdateShape:
    """What an accepted update can add to a document, as far as the graph limits care
    (backend/collab/doc_limits.py decides from it whether the document must be measured)."""

    size: int
    # Levels the update can add under an existing container: Y types it chains inside itself
    # plus the deepest value placed in them (an upper bound; 0 for deletes and scalars).
    depth: int = 0
    new_keys: dict[str, int] = field(default_factory=dict)  # root name -> keys set in that root
    text: bool = False  # Y.Text, XML, binary, embed or subdocument content: not plain graph values
    # The first thing the editor never writes (it edits Y.Maps of plain values only), or None.
    foreign: str | None = None


class _Parents:
    """Depth (in Y types created by this update) of the type each item of the update sits in.

    An item names its parent, or inherits the parent of its left (or right) origin, which may
    lie inside any earlier item of the update. A parent outside the update is an existing
    type: local depth 0 (the document's own depth is added by the caller)."""

    def __init__(self) -> None:
        self.types: dict[tuple[int, int], int] = {}           # type item id -> its local depth
        self.starts: dict[int, list[int]] = {}                # client -> first clocks of items
        self.spans: dict[int, list[tuple[int, int]]] = {}     # client -> (end clock, parent depth)

    def of_item(self, client: int, clock: int) -> int:
        starts = self.starts.get(client)
        if starts:
            i = bisect_right(starts, clock) - 1
            if i >= 0 and clock < self.spans[client][i][0]:
                return self.spans[client][i][1]
        return 0

    def add(self, client: int, clock: int, length: int, parent_depth: int) -> None:
        self.starts.setdefault(client, []).append(clock)
        self.spans.setdefault(client, []).append((clock + max(length, 1), parent_depth))


def check_update(update: bytes) -> UpdateShape:
    """Walk a whole Yjs v1 update; raise UpdateRefused unless it is well-formed and bounded.
    Returns what it can add to a document (UpdateShape)."""
    if len(update) > MAX_UPDATE_BYTES:
        raise UpdateRefused(f"update of {len(update)} bytes (at most {MAX_UPDATE_BYTES})", too_big=True)
    shape = UpdateShape(size=len(update))
    parents = _Parents()
    r = _Reader(update)
    for _ in range(r.count()):                     # struct groups, one per client
        structs = r.count()
        client, clock = r.var_uint(), r.var_uint()
        for _ in range(structs):
            info = r.byte()
            ref = info & 0x1F
            if ref in (0, 10):                     # GC, Skip: a length
                clock += r.var_uint()
                continue
            parent_depth = 0
            if shape.foreign is None:
                shape.foreign = _foreign(info)
            if info & 0x80:                        # origin id: the parent is the origin's
                parent_depth = parents.of_item(*_ref(r))
            if info & 0x40:                        # right origin id
                right = parents.of_item(*_ref(r))
                parent_depth = parent_depth if info & 0x80 else right
            if not info & 0xC0:                    # parent written out
                if r.var_uint() == 1:
                    root = r.text().decode("utf-8")  # a root type's name
                    if info & 0x20:
                        shape.new_keys[root] = shape.new_keys.get(root, 0) + 1
                else:
                    parent_depth = parents.types.get(_ref(r), 0)
                if info & 0x20:
                    r.text()                       # map key
            if ref == 7 and shape.foreign is None and r.data[r.pos:r.pos + 1] != bytes([_Y_MAP]):
                shape.foreign = "a shared type other than Y.Map"
            length, value_depth = _content(r, ref)
            if ref == 7:                           # a Y type, one level below its parent
                if parent_depth >= MAX_UPDATE_DEPTH:
                    raise UpdateRefused(f"Y types nested deeper than {MAX_UPDATE_DEPTH} levels")
                parents.types[(client, clock)] = parent_depth + 1
                value_depth = 1
            elif ref in (3, 4, 5, 6, 9):
                shape.text = True
            shape.depth = max(shape.depth, parent_depth + value_depth)
            parents.add(client, clock, length, parent_depth)
            clock += length
    for _ in range(r.count()):                     # delete set
        r.var_uint()
        for _ in range(r.count()):
            r.var_uint(), r.var_uint()
    if r.pos != len(update):
        raise UpdateRefused("bytes after the end of the update")
    return shape


def _ref(r: _Reader) -> tuple[int, int]:
    """An item id the update refers to (an origin or a parent)."""
    return r.var_uint(), r.var_uint()


def _content(r: _Reader, ref: int) -> tuple[int, int]:
    """Read one item's content; returns (its length in clock ticks, its values' deepest nesting)."""
    if ref == 1:                                   # ContentDeleted
        return r.var_uint(), 0
    if ref == 2:                                   # ContentJSON
        n = r.count()
        return n, max((r.json() for _ in range(n)), default=0)
    if ref == 3:                                   # ContentBinary
        if len(r.buf()) > MAX_UPDATE_STRING_BYTES:
            raise UpdateRefused("binary content too big", too_big=True)
        return 1, 0
    if ref == 4:                                   # ContentString: its length in UTF-16 units
        return len(r.text().decode("utf-8").encode("utf-16-le", "surrogatepass")) // 2, 0
    if ref == 5:                                   # ContentEmbed
        return 1, r.json()
    if ref == 6:                                   # ContentFormat
        r.text()
        return 1, r.json()
    if ref == 7:                                   # ContentType
        if r.var_uint() in (_XML_ELEMENT, _XML_HOOK):
            r.string()
        return 1, 1
    if ref == 8:                                   # ContentAny
        n = r.count()
        return n, max((r.any() for _ in range(n)), default=0)
    if ref == 9:                                   # ContentDoc
        r.string()
        return 1, r.any()
    raise UpdateRefused(f"unknown content type {ref}")


def check_awareness_state(raw: bytes) -> None:
    """An awareness entry's JSON state: bounded like an update's strings and nesting."""
    if len(raw) > MAX_UPDATE_STRING_BYTES:
        raise UpdateRefused(f"awareness state of {len(raw)} bytes", too_big=True)
    check_json_depth(raw)
