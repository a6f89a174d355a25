"""Parse untrusted JSON within the document limits, without ever recursing.

`json.loads` recurses once per nesting level, so `[[[[...` 100,000 deep raises
RecursionError (a 500). `parse_limited` measures size and nesting depth first, with a
regex scan that never recurses, and only hands the text to `json.loads` once it is known
to be shallow. The API maps `JsonLimitError.code` to a status: too_large -> 413,
too_deep / malformed -> 400.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from flows.graph import MAX_DOCUMENT_BYTES, MAX_NESTING

JsonLimitCode = Literal["too_large", "too_deep", "malformed"]

# A whole JSON string (escapes included; "unrolled loop" form so the regex engine does not
# backtrack per character) or one bracket. Brackets inside strings are thereby skipped.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset("[{")


class JsonLimitError(ValueError):
    def __init__(self, code: JsonLimitCode, message: str):
        super().__init__(message)
        self.code: JsonLimitCode = code
        self.message = message

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _scan_depth(text: str, max_depth: int) -> None:
    """Raise too_deep at the first bracket that opens level max_depth + 1."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > max_depth:
                line, col = _line_col(text, match.start())
                raise JsonLimitError(
                    "too_deep",
                    f"JSON nests deeper than {max_depth} levels (line {line}, column {col})",
                )
        elif len(token) == 1:  # a closing bracket; unbalanced ones are json.loads's to report
            depth -= 1


def nested_deeper_than(text: str, max_depth: int) -> bool:
    """Whether a JSON text nests deeper than max_depth (strings skipped); never recurses."""
    try:
        _scan_depth(text, max_depth)
    except JsonLimitError:
        return True
    return False


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python accepts them by default, our documents do not.
    raise ValueError(f"{name} is not valid JSON")


def parse_limited(
    data: bytes | str, *, max_bytes: int = MAX_DOCUMENT_BYTES, max_depth: int = MAX_NESTING
) -> Any:
    """Parse JSON, refusing documents over max_bytes (UTF-8) or nested over max_depth."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        size = len(data)
        if size > max_bytes:
            raise JsonLimitError("too_large", f"the document is {size:,} bytes; the limit is {max_bytes:,}")
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonLimitError("malformed", f"the document is not UTF-8 (byte {exc.start})") from None
    elif isinstance(data, str):
        # Cheap bound first: a str of n characters is at least n UTF-8 bytes.
        size = len(data) if len(data) > max_bytes else len(data.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise JsonLimitError("too_large", f"the document is {size:,} bytes; the limit is {max_bytes:,}")
        text = data
    else:
        raise TypeError(f"parse_limited takes bytes or str, not {type(data).__name__}")

    _scan_depth(text, max_depth)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise JsonLimitError("malformed", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # NaN / Infinity; the decoder does not say where
        raise JsonLimitError("malformed", f"invalid JSON: {exc}") from None
    except RecursionError:  # only reachable when a caller passes a huge max_depth
        raise JsonLimitError("too_deep", "JSON nests too deep to parse") from None


def depth_of(obj: Any, limit: int | None = None) -> int:
    """Nesting depth of a parsed value: scalars 0, [] / {} 1, [[1]] 2 ...

    Iterative. With `limit`, stops descending past limit + 1 (enough to say "too deep"),
    which also bounds the work on self-referencing Python structures."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
        if limit is not None and depth > limit:
            continue
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list, tuple)))
    return deepest
