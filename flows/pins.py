"""Pinned data: a node's output fixed by hand in the draft, for test runs (docs/editor.md).

A pin is the node field `pin`, `{port name: value}` like a node run's recorded output. It
lives in the shared document (co-editors see it) and nowhere else: validation takes it off
the node before the graph schema sees it, so the canonical document, published versions,
templates and run snapshots never hold one (`without_pins`).
"""

from __future__ import annotations

import json
from typing import Any

from nodes.sdk import NodeType

PIN_FIELD = "pin"
MAX_PIN_BYTES = 64 * 1024          # what the engine records of an output (flows/engine.py MAX_RECORDED_BYTES)

_PY_TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,),
                                          "number": (int, float), "boolean": (bool,)}


def value_matches(port_type: str, value: Any) -> bool:
    """True when value is of the port's type ("any" takes everything; a bool is no number)."""
    if port_type == "any":
        return True
    if port_type == "number" and isinstance(value, bool):
        return False
    return isinstance(value, _PY_TYPES.get(port_type, (object,)))


def pin_problems(pin: Any, node_type: NodeType | None) -> list[tuple[tuple[str, ...], str]]:
    """What is wrong with a pin, as (path under the pin, message) pairs; [] when it fits."""
    if not isinstance(pin, dict) or not pin:
        return [((), "a pin is an object of output port name to value, e.g. {\"output\": {...}}")]
    try:
        size = len(json.dumps(pin, separators=(",", ":")))
    except (TypeError, ValueError, RecursionError):
        return [((), "a pin must be JSON")]
    if size > MAX_PIN_BYTES:
        return [((), f"a pin may hold at most {MAX_PIN_BYTES // 1024} KB of JSON, not {size:,} bytes")]
    if node_type is None:
        return []
    ports = {p.name: p.type for p in node_type.spec.outputs}
    out: list[tuple[tuple[str, ...], str]] = []
    for name, value in pin.items():
        if name not in ports:
            out.append(((name,), f"{node_type.spec.type} has no output port {name!r}; its ports: {', '.join(ports)}"))
        elif not value_matches(ports[name], value):
            out.append(((name,), f"port {name!r} carries {ports[name]}, the pinned value is {_kind(value)}"))
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    for name, types in _PY_TYPES.items():
        if isinstance(value, types):
            return name
    return "null" if value is None else type(value).__name__


def pins_of(graph: Any) -> dict[str, dict[str, Any]]:
    """Node id -> pin, for the nodes of a graph JSON that carry a well-formed one."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    return {n["id"]: n[PIN_FIELD] for n in nodes or () if isinstance(n, dict) and isinstance(n.get("id"), str)
            and isinstance(n.get(PIN_FIELD), dict) and n[PIN_FIELD]}


def without_pins(graph: Any) -> Any:
    """The graph JSON with every node's pin left out (the same object when it has none)."""
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if not isinstance(nodes, list) or not any(isinstance(n, dict) and PIN_FIELD in n for n in nodes):
        return graph
    return {**graph, "nodes": [{k: v for k, v in n.items() if k != PIN_FIELD} if isinstance(n, dict) else n
                               for n in nodes]}
