"""Graph validation: every problem of a graph document at once, never an exception.

`validate_graph(raw, registry)` takes parsed JSON of any shape (or a GraphDocument) and
returns a ValidationResult listing Problems, each with a code, a JSON pointer into the
document and the node / edge it is about. The codes are documented in docs/graph.md:

    limit            error    over MAX_NODES / MAX_EDGES / MAX_DOCUMENT_BYTES / MAX_NESTING /
                              MAX_STRING; nothing else is checked then (it is a DoS guard)
    schema           error    the document, a node or an edge does not match flows/graph.py
    duplicate_id     error    a later node or edge reuses an id (the first one is kept)
    unknown_type     error    node type not in the registry
    unknown_version  error    type known, version not (the message lists known versions)
    config           error    config fails the node type's Config model
    dangling_edge    error    edge source or target is not a node
    unknown_port     error    edge names a port the node type does not have
    error_port       error    edge leaves a node's `error` port while its on_error is not "branch"
    port_type        error    output and input port types differ ("any" matches all)
    multiple_inputs  error    a second edge into an input port without multiple=True
    trigger_input    error    an edge into a trigger node
    cycle            error    one per strongly connected group; node_ids lists its nodes
    no_trigger       error    no node of a trigger type
    unreachable      warning  a node no trigger reaches (only checked when there is a trigger)
    unknown_reference error   an expression names nodes.<id> that is not in the graph
    for_each_scope   error    a node in a for_each's per-item sub-path also fed from outside it
    pin              error    a node's pinned data does not fit its output ports (flows/pins.py)

Checks run node by node and edge by edge, so one broken node does not hide the others.
"""

from __future__ import annotations

import json
import re
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

from pydantic import BaseModel, ValidationError

from flows.graph import (
    MAX_DOCUMENT_BYTES,
    MAX_EDGES,
    MAX_NESTING,
    MAX_NODES,
    MAX_STRING,
    GraphDocument,
    GraphEdge,
    GraphNode,
)
from flows.graph_algorithms import one_cycle, reachable, strongly_connected_components
from flows.graph_algorithms import topological_order  # noqa: F401  (part of this module's API)
from flows.pointer import pointer  # noqa: F401  (part of this module's API)
from flows.pins import PIN_FIELD, pin_problems
from nodes.registry import NodeRegistry
from nodes.sdk import ERROR_PORT, NodeType, Port

Severity = Literal["error", "warning"]
_ERROR_OUT = Port(ERROR_PORT, "object", "{error: {kind, message, node_id}} when the node failed (on_error: branch)")


@dataclass(frozen=True)
class Problem:
    code: str
    severity: Severity
    message: str
    pointer: str = ""
    node_id: str | None = None
    edge_id: str | None = None
    node_ids: tuple[str, ...] = ()   # every node involved, e.g. the nodes of a cycle

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "pointer": self.pointer,
            "node_id": self.node_id,
            "edge_id": self.edge_id,
            "node_ids": list(self.node_ids),
        }


@dataclass
class ValidationResult:
    problems: list[Problem] = field(default_factory=list)
    # The parsed document when every node and edge matched the schema (it may still have
    # semantic errors: check `ok` before running it).
    document: GraphDocument | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "problems": [p.to_json() for p in self.problems],
        }


# ---------------------------------------------------------------------------- pointers

# ------------------------------------------------------------------------- expressions

_WHOLE_EXPRESSION = re.compile(r"^\s*\{\{.*\}\}\s*$", re.DOTALL)
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NODE_REFERENCE = re.compile(r"(?<![\w.])nodes\.([A-Za-z_][A-Za-z0-9_-]*)")

# Errors about a string's content rather than its type. A string holding an expression
# is only known at run time, so these are not held against it.
_STRING_CONTENT_ERRORS = frozenset({
    "string_pattern_mismatch", "string_too_short", "string_too_long", "literal_error", "enum",
    "url_parsing", "url_scheme", "url_syntax_violation", "url_too_long", "value_error",
    "uuid_parsing", "date_parsing", "datetime_parsing", "datetime_from_date_parsing",
})


def is_whole_expression(value: Any) -> bool:
    return isinstance(value, str) and _WHOLE_EXPRESSION.match(value) is not None and value.count("{{") == 1


def _expression_tolerates(error: dict[str, Any]) -> bool:
    """Should this config error be dropped because its input is an expression?

    We filter pydantic's errors instead of substituting placeholders: the error carries
    the offending input at any depth (lists, nested models, unions), so no knowledge of
    the field's type is needed. A whole `{{ ... }}` becomes a native value at run time,
    so any error on it goes; a string merely containing `{{` is still a string, so only
    errors about string content go (an int field given "a{{x}}" stays an error)."""
    value = error.get("input")
    if not isinstance(value, str) or "{{" not in value:
        return False
    return is_whole_expression(value) or error.get("type") in _STRING_CONTENT_ERRORS


# ------------------------------------------------------------------------- type cache

@dataclass(frozen=True)
class _TypeInfo:
    config_model: type[BaseModel]
    inputs: dict[str, Port]
    outputs: dict[str, Port]
    trigger: bool
    each_ports: frozenset[str]


# Built once per NodeType (weak: plugins can be reloaded without leaking).
_TYPE_INFO: "weakref.WeakKeyDictionary[NodeType, _TypeInfo]" = weakref.WeakKeyDictionary()


def _type_info(node_type: NodeType) -> _TypeInfo:
    try:
        info = _TYPE_INFO.get(node_type)
    except TypeError:  # a plugin's NodeType with an unhashable field: just do not cache
        info = None
    if info is None:
        spec = node_type.spec
        info = _TypeInfo(
            config_model=node_type.config_model,
            inputs={p.name: p for p in spec.inputs},
            outputs={p.name: p for p in spec.outputs},
            trigger=spec.trigger,
            each_ports=frozenset(p.name for p in spec.outputs if p.each),
        )
        try:
            _TYPE_INFO[node_type] = info
        except TypeError:
            pass
    return info


# ------------------------------------------------------------------------------ limits

def _check_limits(raw: dict[str, Any], problems: list[Problem]) -> None:
    """Node/edge counts, nesting depth, string length, size: iteratively, no recursion."""
    nodes, edges = raw.get("nodes"), raw.get("edges")
    if isinstance(nodes, list) and len(nodes) > MAX_NODES:
        problems.append(Problem("limit", "error", f"{len(nodes):,} nodes; the limit is {MAX_NODES:,}", "/nodes"))
    if isinstance(edges, list) and len(edges) > MAX_EDGES:
        problems.append(Problem("limit", "error", f"{len(edges):,} edges; the limit is {MAX_EDGES:,}", "/edges"))

    too_deep = False
    # Entries are (value, depth, path); path is a (parent_path, key) chain built lazily.
    stack: list[tuple[Any, int, Any]] = [(raw, 0, None)]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                problems.append(Problem("limit", "error", f"a string of {len(value):,} characters; the limit is {MAX_STRING:,}", _chain_pointer(path)))
            continue
        if isinstance(value, dict):
            items: Iterable[tuple[Any, Any]] = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        depth += 1
        if depth > MAX_NESTING:
            too_deep = True
            problems.append(Problem("limit", "error", f"nested deeper than {MAX_NESTING} levels", _chain_pointer(path)))
            continue
        for key, child in items:
            if isinstance(key, str) and len(key) > MAX_STRING:
                problems.append(Problem("limit", "error", f"a key of {len(key):,} characters; the limit is {MAX_STRING:,}", _chain_pointer(path)))
            if isinstance(child, (dict, list, str)):
                stack.append((child, depth, (path, key)))

    if not too_deep:  # json.dumps recurses, so only measure a document known to be shallow
        try:
            size = len(json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
        except (TypeError, ValueError):
            size = 0  # not JSON-serialisable: the schema checks will say why
        if size > MAX_DOCUMENT_BYTES:
            problems.append(Problem("limit", "error", f"the document is {size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}", ""))


def limit_problems(raw: Any) -> list[Problem]:
    """Only the document limits: what no draft may exceed, from REST or from the co-editing
    document (backend/collab/doc_limits.py)."""
    problems: list[Problem] = []
    if isinstance(raw, dict):
        _check_limits(raw, problems)
    return problems


def _chain_pointer(path: Any) -> str:
    parts: list[Any] = []
    while path is not None:
        path, key = path
        parts.append(key)
    return pointer(*reversed(parts))


# ---------------------------------------------------------------------------- schema

def _schema_problems(exc: ValidationError, prefix: tuple[Any, ...], **ids: Any) -> list[Problem]:
    return [
        Problem("schema", "error", f"{err['msg']}", pointer(*prefix, *err["loc"]), **ids)
        for err in exc.errors(include_url=False)
    ]


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------------------- main entry

def validate_graph(raw: Any, registry: NodeRegistry) -> ValidationResult:
    """Every problem of the document at once. Never raises on any input."""
    try:
        return _validate(raw, registry)
    except Exception as exc:  # a bug here must read as a problem, not a 500
        return ValidationResult([Problem("schema", "error", f"the document could not be validated: {exc!r}", "")])


def _validate(raw: Any, registry: NodeRegistry) -> ValidationResult:
    if isinstance(raw, GraphDocument):
        raw = raw.model_dump(mode="json")  # one path for both: validate(doc) == validate(dump)
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        problems.append(Problem("schema", "error", f"the document must be a JSON object, not {type(raw).__name__}", ""))
        return ValidationResult(problems)

    _check_limits(raw, problems)
    if problems:
        return ValidationResult(problems)

    # Top level without the lists, so its errors do not drown in per-node ones.
    head = {k: v for k, v in raw.items() if k not in ("nodes", "edges")}
    try:
        header = GraphDocument.model_validate(head)
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, ()))
        header = None

    raw_nodes, raw_edges = raw.get("nodes", []), raw.get("edges", [])
    for key, value in (("nodes", raw_nodes), ("edges", raw_edges)):
        if not isinstance(value, list):
            problems.append(Problem("schema", "error", f"{key} must be a list", pointer(key)))
    raw_nodes = raw_nodes if isinstance(raw_nodes, list) else []
    raw_edges = raw_edges if isinstance(raw_edges, list) else []

    checker = _GraphChecker(registry, problems)
    nodes = checker.parse_nodes(raw_nodes)
    edges = checker.parse_edges(raw_edges)
    checker.check_configs()
    checker.check_edges()
    checker.check_graph()

    document = None
    if header is not None and None not in nodes and None not in edges:
        document = GraphDocument.model_construct(
            schema_version=header.schema_version, name=header.name, nodes=nodes, edges=edges, notes=header.notes
        )
    return ValidationResult(problems, document)


class _GraphChecker:
    """The node and edge checks, sharing what they learn (node index by id, types...)."""

    def __init__(self, registry: NodeRegistry, problems: list[Problem]):
        self.registry = registry
        self.problems = problems
        self.nodes: list[GraphNode | None] = []
        self.index: dict[str, int] = {}         # first valid node with each id -> its index
        self.named: set[str] = set()            # ids of every node, even schema-broken ones
        self.info: dict[int, _TypeInfo] = {}    # node index -> its type, when known
        self.edges: list[tuple[int, GraphEdge, int, int]] = []  # (edge index, edge, src, dst)
        # A schema-broken node whose type is a trigger: "no trigger" would be misleading.
        self.broken_trigger = False

    def add(self, code: str, message: str, ptr: str, severity: Severity = "error", **ids: Any) -> None:
        self.problems.append(Problem(code, severity, message, ptr, **ids))

    # ------------------------------------------------------------------ nodes
    def parse_nodes(self, raw_nodes: list[Any]) -> list[GraphNode | None]:
        types: dict[tuple[str, int], _TypeInfo | None] = {}
        for i, raw in enumerate(raw_nodes):
            raw_id = _str_or_none(raw.get("id")) if isinstance(raw, dict) else None
            if raw_id is not None:
                self.named.add(raw_id)
            pin = raw.get(PIN_FIELD) if isinstance(raw, dict) else None
            if isinstance(raw, dict) and PIN_FIELD in raw:   # draft-only: never part of the document
                raw = {k: v for k, v in raw.items() if k != PIN_FIELD}
            try:
                node = GraphNode.model_validate(raw)
            except ValidationError as exc:
                self.problems.extend(_schema_problems(exc, ("nodes", i), node_id=raw_id))
                self.nodes.append(None)
                raw_type = raw.get("type") if isinstance(raw, dict) else None
                latest = self.registry.latest(raw_type) if isinstance(raw_type, str) else None
                self.broken_trigger |= latest is not None and latest.spec.trigger
                continue
            self.nodes.append(node)
            if node.id in self.index:
                first = self.index[node.id]
                self.add("duplicate_id", f"node id {node.id!r} is already used by /nodes/{first}", pointer("nodes", i, "id"), node_id=node.id)
                continue
            self.index[node.id] = i
            key = (node.type, node.type_version)
            if key not in types:
                node_type = self.registry.get(*key)
                types[key] = _type_info(node_type) if node_type is not None else None
            info = types[key]
            if pin is not None:
                for at, message in pin_problems(pin, self.registry.get(*key)):
                    self.add("pin", message, pointer("nodes", i, PIN_FIELD, *at), node_id=node.id)
            if info is not None:
                self.info[i] = info
                continue
            known = self.registry.versions(node.type)
            if known:
                listed = ", ".join(str(v) for v in known)
                self.add("unknown_version", f"{node.type} has no version {node.type_version}; known versions: {listed}", pointer("nodes", i, "type_version"), node_id=node.id)
            else:
                self.add("unknown_type", f"unknown node type {node.type!r}", pointer("nodes", i, "type"), node_id=node.id)
        return self.nodes

    def check_configs(self) -> None:
        for i, info in self.info.items():
            node = self.nodes[i]
            assert node is not None
            on_error = node.config.get("on_error", "stop")
            if isinstance(on_error, str) and "{{" in on_error:   # read before expressions render: a literal only
                self.add("config", "on_error must be stop, continue or branch, not an expression",
                         pointer("nodes", i, "config", "on_error"), node_id=node.id)
            try:
                info.config_model.model_validate(node.config)
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    if not _expression_tolerates(err):
                        self.add("config", err["msg"], pointer("nodes", i, "config", *err["loc"]), node_id=node.id)
            except Exception as exc:  # a node's own validator crashed: still the config's fault
                self.add("config", f"config could not be checked: {exc}", pointer("nodes", i, "config"), node_id=node.id)
        self._check_references()

    def _check_references(self) -> None:
        for i, node in enumerate(self.nodes):
            if node is None or self.index.get(node.id) != i:
                continue
            stack: list[tuple[Any, tuple[Any, ...]]] = [(node.config, ())]
            while stack:
                value, path = stack.pop()
                if isinstance(value, dict):
                    stack.extend((v, (*path, k)) for k, v in value.items())
                elif isinstance(value, list):
                    stack.extend((v, (*path, j)) for j, v in enumerate(value))
                elif isinstance(value, str) and "{{" in value:
                    for expression in _EXPRESSION.findall(value):
                        for ref in _NODE_REFERENCE.findall(expression):
                            if ref not in self.named:
                                self.add("unknown_reference", f"expression refers to nodes.{ref}, which is not in the graph", pointer("nodes", i, "config", *path), node_id=node.id)

    # ------------------------------------------------------------------ edges
    def parse_edges(self, raw_edges: list[Any]) -> list[GraphEdge | None]:
        parsed: list[GraphEdge | None] = []
        seen: dict[str, int] = {}
        for j, raw in enumerate(raw_edges):
            raw_id = _str_or_none(raw.get("id")) if isinstance(raw, dict) else None
            try:
                edge = GraphEdge.model_validate(raw)
            except ValidationError as exc:
                self.problems.extend(_schema_problems(exc, ("edges", j), edge_id=raw_id))
                parsed.append(None)
                continue
            parsed.append(edge)
            if edge.id in seen:
                self.add("duplicate_id", f"edge id {edge.id!r} is already used by /edges/{seen[edge.id]}", pointer("edges", j, "id"), edge_id=edge.id)
                continue
            seen[edge.id] = j
            ends = []
            for end in ("source", "target"):
                node_id = getattr(edge, end)
                if node_id not in self.named:
                    self.add("dangling_edge", f"edge {end} {node_id!r} is not a node of the graph", pointer("edges", j, end), edge_id=edge.id)
                ends.append(self.index.get(node_id))
            src, dst = ends
            # Edges touching schema-broken nodes are neither dangling nor analysed further.
            if src is not None and dst is not None:
                self.edges.append((j, edge, src, dst))
        return parsed

    def check_edges(self) -> None:
        fed: dict[tuple[int, str], int] = {}
        for j, edge, src, dst in self.edges:
            src_info, dst_info = self.info.get(src), self.info.get(dst)
            if dst_info is not None and dst_info.trigger:
                self.add("trigger_input", f"trigger node {edge.target!r} cannot have incoming edges", pointer("edges", j, "target"), node_id=edge.target, edge_id=edge.id)
                continue
            out_port = in_port = None
            if src_info is not None:
                out_port = src_info.outputs.get(edge.source_port)
                if out_port is None and edge.source_port == ERROR_PORT:
                    out_port = self._error_port(j, edge, src)
                elif out_port is None:
                    names = ", ".join(src_info.outputs) or "none"
                    self.add("unknown_port", f"node {edge.source!r} has no output port {edge.source_port!r} (outputs: {names})", pointer("edges", j, "source_port"), node_id=edge.source, edge_id=edge.id)
            if dst_info is not None:
                in_port = dst_info.inputs.get(edge.target_port)
                if in_port is None:
                    names = ", ".join(dst_info.inputs) or "none"
                    self.add("unknown_port", f"node {edge.target!r} has no input port {edge.target_port!r} (inputs: {names})", pointer("edges", j, "target_port"), node_id=edge.target, edge_id=edge.id)
            if out_port is not None and in_port is not None and "any" not in (out_port.type, in_port.type) and out_port.type != in_port.type:
                self.add("port_type", f"output {edge.source}.{edge.source_port} is {out_port.type} but input {edge.target}.{edge.target_port} takes {in_port.type}", pointer("edges", j), node_id=edge.target, edge_id=edge.id)
            if in_port is not None and not in_port.multiple:
                key = (dst, edge.target_port)
                if key in fed:
                    self.add("multiple_inputs", f"input {edge.target}.{edge.target_port} takes one edge and already has {fed[key]!r}", pointer("edges", j, "target_port"), node_id=edge.target, edge_id=edge.id)
                else:
                    fed[key] = edge.id

    def _error_port(self, j: int, edge: GraphEdge, src: int) -> Port | None:
        """Every node has an `error` output port while its on_error is "branch"; an edge from it
        otherwise is a problem naming the setting to change."""
        on_error = (self.nodes[src].config or {}).get("on_error", "stop")  # type: ignore[union-attr]
        if on_error == "branch":
            return _ERROR_OUT
        self.add("error_port", f"edge leaves {edge.source}'s error port, but its on_error is {on_error!r}: "
                 "set on_error to \"branch\" or remove the edge", pointer("edges", j, "source_port"),
                 node_id=edge.source, edge_id=edge.id)
        return None

    # ------------------------------------------------------------------ graph
    def check_graph(self) -> None:
        successors: dict[int, list[int]] = {i: [] for i in self.index.values()}
        for _, _, src, dst in self.edges:
            successors[src].append(dst)
        self._check_cycles(successors)

        triggers = [i for i, info in self.info.items() if info.trigger]
        # With a schema-broken trigger we cannot tell what runs: its schema problem says it.
        if not triggers and not self.broken_trigger:
            self.add("no_trigger", "the graph has no trigger node, so nothing can start it", "/nodes")
        elif triggers and not self.broken_trigger:
            reached = reachable(triggers, successors)
            for i in sorted(self.index.values()):
                if i not in reached:
                    node_id = self.nodes[i].id  # type: ignore[union-attr]
                    self.add("unreachable", f"no trigger reaches node {node_id!r}; it never runs", pointer("nodes", i), "warning", node_id=node_id)
        self._check_for_each_scopes()

    def _check_cycles(self, successors: dict[int, list[int]]) -> None:
        for group in strongly_connected_components(successors):
            if len(group) == 1 and group[0] not in successors[group[0]]:
                continue
            members = sorted(group)
            ids = tuple(self.nodes[i].id for i in members)  # type: ignore[union-attr]
            cycle = one_cycle(members, successors)
            loop = " → ".join(self.nodes[i].id for i in cycle)  # type: ignore[union-attr]
            if len(members) == len(cycle) - 1:
                message = f"cycle: {loop}"
            else:
                message = f"nodes {', '.join(ids)} are on cycles, e.g. {loop}"
            self.add("cycle", message, pointer("nodes", members[0]), node_id=ids[0], node_ids=ids)

    def _check_for_each_scopes(self) -> None:
        """Nodes run per item must be fed only from inside the per-item sub-path.

        The scope of a for_each is what its each=True ports reach (not passing through the
        for_each itself again, which would be a cycle, reported as such). One problem per
        edge entering the scope from elsewhere: that is where per-item and once-per-run
        values would mix."""
        outgoing: dict[int, list[tuple[GraphEdge, int]]] = {}
        incoming: dict[int, list[tuple[int, GraphEdge, int]]] = {}
        for j, edge, src, dst in self.edges:
            outgoing.setdefault(src, []).append((edge, dst))
            incoming.setdefault(dst, []).append((j, edge, src))
        for f, info in sorted(self.info.items()):
            if not info.each_ports:
                continue
            scope = {dst for edge, dst in outgoing.get(f, ()) if edge.source_port in info.each_ports}
            queue = deque(scope)
            while queue:
                for _, nxt in outgoing.get(queue.popleft(), ()):
                    if nxt != f and nxt not in scope:
                        scope.add(nxt)
                        queue.append(nxt)
            scope.discard(f)
            for n in sorted(scope):
                for j, edge, src in incoming.get(n, ()):
                    from_item_port = src == f and edge.source_port in info.each_ports
                    if src not in scope and not from_item_port:
                        fe = self.nodes[f].id  # type: ignore[union-attr]
                        self.add("for_each_scope", f"node {edge.target!r} runs once per item of {fe!r} but is also fed by {edge.source!r} from outside the loop", pointer("edges", j), node_id=edge.target, edge_id=edge.id)
