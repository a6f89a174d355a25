"""Catalogue entries of node types, built once per type."""

from __future__ import annotations

from backend.catalogue.schemas import NodeTypeOut, PortOut
from nodes.sdk import NodeType, Port


def _port(p: Port) -> PortOut:
    return PortOut(name=p.name, type=p.type, description=p.description, multiple=p.multiple, each=p.each)


# A node type's catalogue entry never changes once loaded; building its JSON Schema took ~15 ms for the whole
# catalogue on every canvas open. Keyed by id() with the type itself kept, so an id is never reused.
_ENTRIES: dict[int, tuple[NodeType, NodeTypeOut]] = {}


def node_type_out(t: NodeType) -> NodeTypeOut:
    cached = _ENTRIES.get(id(t))
    if cached is None or cached[0] is not t:
        cached = _ENTRIES[id(t)] = (t, _build_entry(t))
    return cached[1]


def _build_entry(t: NodeType) -> NodeTypeOut:
    s = t.spec
    return NodeTypeOut(
        type=s.type, version=s.version, title=s.title, category=s.category, icon=s.icon, description=s.description,
        inputs=[_port(p) for p in s.inputs], outputs=[_port(p) for p in s.outputs], trigger=s.trigger,
        side_effects=s.side_effects, side_effect_kind=s.effects, waits=s.waits, source=t.source, config_schema=t.config_schema(),
    )
