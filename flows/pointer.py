"""RFC 6901 JSON pointers: the one escape every problem, diff and merge in the app uses to name a place in a
document (`/nodes/say/config/subject`)."""

from __future__ import annotations

from typing import Any


def token(key: Any) -> str:
    """One reference token: `~` as `~0`, `/` as `~1`."""
    return str(key).replace("~", "~0").replace("/", "~1")


def pointer(*parts: Any) -> str:
    """The pointer to `parts` (keys and list indexes, from the root)."""
    return "".join("/" + token(p) for p in parts)


def parts(ptr: str) -> list[str]:
    """The tokens of a pointer, unescaped (`/a~1b/c` -> `["a/b", "c"]`)."""
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]
