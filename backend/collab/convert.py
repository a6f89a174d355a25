"""Graph JSON <-> the shared Y.Doc (layout in docs/collab.md).

`apply_graph` turns a document into a given graph with the fewest edits (one transaction):
a REST save or a version restore then reaches connected editors as an ordinary edit, and a
concurrent edit of another field or config key by someone else survives it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pycrdt import Array, Doc, Map, Text

from flows.jsonequal import same
from flows.graph import MAX_NESTING
from flows.jsonlimits import depth_of, nested_deeper_than
from flows.pointer import pointer

log = logging.getLogger("maily.collab")

LISTS = ("nodes", "edges", "notes")
# Node and note fields in the order graph JSON lists them; other keys follow, sorted.
_NODE_ORDER = ("id", "type", "type_version", "position", "label", "config")
_NOTE_ORDER = ("id", "text", "position", "width", "height", "color")
_MAX_SAFE_INT = 2**53
# Deeper than any draft the limits admit, far below Python's recursion limit for json.loads: a
# document stored before the limits (a 5,000-deep value) still reads, without that element.
_READ_DEPTH = 4 * MAX_NESTING


class UnrepresentableGraph(ValueError):
    """A graph the shared document cannot hold: elements without a unique string id, or an
    integer beyond 2**53 (Yjs numbers are doubles, and pycrdt panics on ints past 2**63)."""

    def __init__(self, message: str, pointer: str = "", node_id: str | None = None):
        super().__init__(message)
        self.pointer, self.node_id = pointer, node_id


def roots(doc: Doc) -> tuple[Map, Map, Map, Map]:
    return (doc.get("meta", type=Map), doc.get("nodes", type=Map), doc.get("edges", type=Map),
            doc.get("notes", type=Map))


def normalize(value: Any) -> Any:
    """Plain JSON as it came out of the document: Yjs numbers are doubles, so integral ones
    become ints again (JavaScript cannot tell 1 from 1.0 either)."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= _MAX_SAFE_INT:
        return int(value)
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def _by_id(graph: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    items = graph.get(key, [])
    if not isinstance(items, list):
        raise UnrepresentableGraph(f"{key} must be a list")
    out: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise UnrepresentableGraph(f"{key}[{i}] needs a string id to be co-edited")
        if item["id"] in out:
            raise UnrepresentableGraph(f"{key}[{i}]: id {item['id']!r} appears twice")
        out[item["id"]] = item
    return out


def check(graph: Any) -> None:
    """Raises UnrepresentableGraph unless graph fits the document layout."""
    if not isinstance(graph, dict):
        raise UnrepresentableGraph("a graph is a JSON object")
    for key in LISTS:
        _by_id(graph, key)
    _check_integers(graph)


def _check_integers(graph: dict[str, Any]) -> None:
    """Refuse integers the document (and the browser) cannot hold exactly; iterative."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(graph, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_SAFE_INT:
            node_id = None
            if len(path) > 1 and path[0] == "nodes" and isinstance(graph["nodes"][path[1]], dict):
                node_id = graph["nodes"][path[1]].get("id")
            at, where = pointer(*path), f"node {node_id!r}, " if node_id else ""
            raise UnrepresentableGraph(f"{where}{at}: the integer {value} is beyond ±2^53, which the editor cannot "
                                       "hold exactly; write it as a string", at, node_id)
        if isinstance(value, dict):
            stack.extend((v, path + (k,)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, path + (i,)) for i, v in enumerate(value))


def integers_as_strings(value: Any) -> Any:
    """A copy with integers beyond ±2**53 written as strings: a legacy draft keeps its data."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_SAFE_INT:
        return str(value)
    if isinstance(value, dict):
        return {k: integers_as_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integers_as_strings(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    try:
        return value.to_py() if isinstance(value, Map) else value
    except RecursionError:  # a legacy value too deep to compare: it differs (and is replaced)
        return None


def _sync_map(target: Map, wanted: dict[str, Any], nested: tuple[str, ...] = ()) -> None:
    """Set only the keys whose value differs, delete the keys that are gone. Keys in `nested`
    are Y.Maps themselves (a node's config) and are synced key by key."""
    for key in [k for k in target.keys() if k not in wanted]:
        del target[key]
    for key, value in wanted.items():
        current = target.get(key)
        if key in nested and isinstance(value, dict):
            if isinstance(current, Map):
                _sync_map(current, value)
            else:
                target[key] = Map(dict(value))
        elif key not in target or isinstance(current, Map) or not same(current, value):
            target[key] = value


def _node_prelim(node: dict[str, Any]) -> Map:
    # config is always a Y.Map, even when the JSON has none: two people setting the first
    # config fields of a node at once must write into the same map, not replace each other's.
    fields = {k: v for k, v in node.items() if k != "config"}
    config = node.get("config")
    fields["config"] = Map(dict(config) if isinstance(config, dict) else {})
    return Map(fields)


def _sync_elements(root: Map, wanted: dict[str, dict[str, Any]], kind: str) -> None:
    for key in [k for k in root.keys() if k not in wanted]:
        del root[key]
    for key, item in wanted.items():
        current = root.get(key)
        if kind == "edges":  # plain objects, replaced whole when they differ
            if key not in root or not same(_plain(current), item):
                root[key] = dict(item)
        elif kind == "nodes":
            if not isinstance(current, Map):
                root[key] = _node_prelim(item)
            else:
                wanted_fields = dict(item)
                if not isinstance(wanted_fields.get("config"), dict):
                    wanted_fields["config"] = {}
                _sync_map(current, wanted_fields, nested=("config",))
        else:
            if not isinstance(current, Map):
                root[key] = Map(dict(item))
            else:
                _sync_map(current, item)


def apply_graph(doc: Doc, graph: dict[str, Any], origin: Any = None) -> None:
    """Make `doc` hold `graph`, editing only what differs, in one transaction."""
    check(graph)
    meta, nodes, edges, notes = roots(doc)
    with doc.transaction(origin=origin):
        _sync_map(meta, {k: v for k, v in graph.items() if k not in LISTS})
        _sync_elements(nodes, _by_id(graph, "nodes"), "nodes")
        _sync_elements(edges, _by_id(graph, "edges"), "edges")
        _sync_elements(notes, _by_id(graph, "notes"), "notes")


def doc_from_graph(graph: dict[str, Any]) -> Doc:
    doc = Doc()
    apply_graph(doc, graph)
    return doc


def _ordered(item: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    keys = [k for k in order if k in item] + sorted(k for k in item if k not in order)
    return {k: item[k] for k in keys}


def _read(root: Map) -> dict[str, Any]:
    """A root as plain values, in one call into pycrdt: its JSON text (about 7x faster than
    `to_py`, which reads key by key: 70 ms for 500 nodes, on the event loop)."""
    text = str(root)
    if nested_deeper_than(text, _READ_DEPTH):
        return _read_entries(root)
    try:
        value = json.loads(text)  # integral numbers come back as ints already
    except ValueError:  # not expected; the slow path gives the same values
        value = normalize(root.to_py())
    return value if isinstance(value, dict) else {}


def _read_entries(root: Map) -> dict[str, Any]:
    """Entry by entry, leaving out those nested deeper than _READ_DEPTH (never recursing on them)."""
    out: dict[str, Any] = {}
    for key in list(root.keys()):
        value = root[key]
        if isinstance(value, Text):
            out[key] = str(value)
        elif isinstance(value, (Map, Array)):
            text = str(value)
            if not nested_deeper_than(text, _READ_DEPTH):
                out[key] = json.loads(text)
        elif depth_of(value, _READ_DEPTH) <= _READ_DEPTH:
            out[key] = normalize(value)
        if key not in out:
            log.warning("collab: left out %r, nested deeper than %d levels", key, _READ_DEPTH)
    return out


def _elements(root: Map, order: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    items = _read(root)
    for key in sorted(items):
        value = items[key]
        if isinstance(value, dict):  # anything else is junk a client wrote: skipped
            out.append(_ordered({**value, "id": key}, order))
    return out


def graph_from_doc(doc: Doc) -> dict[str, Any]:
    """The graph JSON of a document: nodes, edges and notes in id order; `notes` only when
    there are some (graphs without notes round-trip unchanged)."""
    meta, nodes, edges, notes = roots(doc)
    graph: dict[str, Any] = _ordered(_read(meta), ("schema_version", "name"))
    graph["nodes"] = _elements(nodes, _NODE_ORDER)
    graph["edges"] = _elements(edges, ("id", "source", "source_port", "target", "target_port"))
    note_list = _elements(notes, _NOTE_ORDER)
    if note_list:
        graph["notes"] = note_list
    return graph
