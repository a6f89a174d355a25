"""Compile a validated graph document into a Plan the engine executes.

The plan is the graph with everything the engine asks per node worked out once: the
node type, edges in and out, which for_each sub-path (scope) the node belongs to, and
whether it is durable (a Prefect task of its own) or cheap (fused, run inline).
Plans are cached by the graph's hash, so starting the same workflow twice compiles once.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from flows.graph import GraphDocument
from flows.graph_algorithms import reachable, topological_order
from flows.validate import validate_graph
from nodes.registry import NodeRegistry
from nodes.sdk import ON_ERROR_VALUES, NodeType


class CompileError(Exception):
    """The graph has validation errors; `result` is the flows.validate.ValidationResult."""

    def __init__(self, result: Any):
        errors = result.errors
        super().__init__(f"the graph has {len(errors)} error(s): " + "; ".join(p.message for p in errors[:5]))
        self.result = result


@dataclass(frozen=True)
class PlanEdge:
    id: str
    source: str
    source_port: str
    target: str
    target_port: str


@dataclass
class PlanNode:
    id: str
    type: NodeType
    label: str
    config: dict[str, Any]
    incoming: list[PlanEdge] = field(default_factory=list)
    outgoing: list[PlanEdge] = field(default_factory=list)
    # The innermost logic.for_each whose item sub-path holds this node; None: the main path.
    scope: str | None = None

    @property
    def durable(self) -> bool:
        """Side effects or long waits: run as a Prefect task with durable state."""
        return self.type.spec.side_effects or self.type.spec.waits

    @property
    def on_error(self) -> str:
        """What its failure does once retries are spent: stop, continue or branch (validated literal)."""
        value = self.config.get("on_error", "stop")
        return value if value in ON_ERROR_VALUES else "stop"

    @property
    def each_ports(self) -> frozenset[str]:
        return frozenset(p.name for p in self.type.spec.outputs if p.each)


@dataclass
class Plan:
    name: str
    graph_hash: str
    nodes: dict[str, PlanNode]
    order: list[str]                        # topological, ties in document order
    triggers: list[str]
    subpaths: dict[str, frozenset[str]]     # for_each id -> nodes run once per item

    @property
    def needs_prefect(self) -> bool:
        return any(n.durable for n in self.nodes.values())

    def scope_nodes(self, scope: str | None) -> list[str]:
        return [n for n in self.order if self.nodes[n].scope == scope]


def graph_hash(doc: GraphDocument) -> str:
    canonical = json.dumps(doc.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _subpaths(nodes: dict[str, PlanNode]) -> dict[str, frozenset[str]]:
    """For each for_each: every node reachable from its each=True port."""
    successors = {nid: [e.target for e in n.outgoing] for nid, n in nodes.items()}
    out: dict[str, frozenset[str]] = {}
    for node in nodes.values():
        ports = node.each_ports
        if ports:
            starts = [e.target for e in node.outgoing if e.source_port in ports]
            out[node.id] = frozenset(reachable(starts, successors) - {node.id})
    return out


def build_plan(doc: GraphDocument, registry: NodeRegistry, order: list[str], digest: str | None = None) -> Plan:
    """Build the plan of a graph that already passed validation."""
    nodes: dict[str, PlanNode] = {}
    for n in doc.nodes:
        node_type = registry.get(n.type, n.type_version)
        assert node_type is not None, f"validated graph names unknown type {n.type}"
        nodes[n.id] = PlanNode(id=n.id, type=node_type, label=n.label or n.id, config=n.config)
    for e in doc.edges:
        edge = PlanEdge(e.id, e.source, e.source_port, e.target, e.target_port)
        nodes[e.source].outgoing.append(edge)
        nodes[e.target].incoming.append(edge)
    subpaths = _subpaths(nodes)
    # Innermost scope = the smallest sub-path that holds the node (sub-paths nest).
    for fid, members in sorted(subpaths.items(), key=lambda kv: -len(kv[1])):
        for nid in members:
            nodes[nid].scope = fid
    triggers = [nid for nid, n in nodes.items() if n.type.spec.trigger]
    return Plan(doc.name, digest or graph_hash(doc), nodes, order, triggers, subpaths)


_cache: OrderedDict[tuple[str, int], Plan] = OrderedDict()
_CACHE_SIZE = 256


def compile_graph(raw: Any, registry: NodeRegistry) -> Plan:
    """Validate and compile; raises CompileError listing every problem."""
    try:
        payload = raw.model_dump(mode="json") if isinstance(raw, GraphDocument) else raw
        key: tuple[str, int] | None = (
            hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest(),
            id(registry),
        )
    except (TypeError, ValueError, RecursionError):
        key = None  # not JSON: validation reports it
    if key is not None and key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    result = validate_graph(raw, registry)
    if not result.ok or result.document is None:
        raise CompileError(result)
    doc = result.document
    plan = build_plan(doc, registry, topological_order(doc), key[0] if key else None)
    if key is not None:
        _cache[key] = plan
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return plan
