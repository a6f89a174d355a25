"""Equality of JSON values as JSON means it, for comparing graph documents.

Used by the co-editing converter (backend/collab), version diffs (backend/workflows/diff.py) and
the template merge (templates/merge.py); it lives here, below all three, because it is pure.
"""

from __future__ import annotations

from typing import Any


def same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1 (Python's == says otherwise)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b
