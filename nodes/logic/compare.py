"""Comparison operators shared by logic.if and logic.switch (no expressions, no regex:
a user-supplied regex could backtrack for minutes)."""

from __future__ import annotations

from typing import Any, Literal

from nodes.sdk import NodeConfigError

Operator = Literal[
    "eq", "ne", "gt", "gte", "lt", "lte", "contains", "not_contains",
    "starts_with", "ends_with", "in", "not_in", "is_empty", "is_not_empty",
]


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _same(left: Any, right: Any) -> bool:
    # "5" == 5 is what people mean in a form where everything is typed as text
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return ln == rn
    return left == right


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, (str, list, dict)) and len(v) == 0)


def compare(left: Any, op: str, right: Any, pointer: str = "") -> bool:
    """Evaluate `left op right`; NodeConfigError when the values cannot be compared."""
    if op == "eq":
        return _same(left, right)
    if op == "ne":
        return not _same(left, right)
    if op in ("gt", "gte", "lt", "lte"):
        ln, rn = _number(left), _number(right)
        a, b = (ln, rn) if ln is not None and rn is not None else (left, right)
        try:
            return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
        except TypeError:
            raise NodeConfigError(f"cannot compare {type(left).__name__} with {type(right).__name__} using {op}", pointer=pointer) from None
    if op in ("contains", "not_contains"):
        if isinstance(left, str):
            found = str(right) in left
        elif isinstance(left, (list, dict)):
            found = right in left
        else:
            raise NodeConfigError(f"{op} needs text, a list or an object on the left, not {type(left).__name__}", pointer=pointer)
        return found if op == "contains" else not found
    if op in ("in", "not_in"):
        return compare(right, "contains" if op == "in" else "not_contains", left, pointer)
    if op == "starts_with":
        return isinstance(left, str) and left.startswith(str(right))
    if op == "ends_with":
        return isinstance(left, str) and left.endswith(str(right))
    if op == "is_empty":
        return _empty(left)
    if op == "is_not_empty":
        return not _empty(left)
    raise NodeConfigError(f"unknown operator {op!r}", pointer=pointer)
