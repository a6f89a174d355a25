"""Upgrade older template files and graph documents to the current versions.

Template `format_version`:
  1  the first gallery files: `name`/`summary` instead of `title`/`description`, parameters
     as a list `params: [{name, type, title, description, default, required, enum}]`, the
     template version as a string `"1.2"` (major.minor), and placeholders written as whole
     strings `"$param:sender"`.
  2  no `triggers`: a parameter such as `schedule` only reached node configs; no run was
     ever scheduled from it.
  3  current (templates/format.py): `triggers` declares schedules (cron and time zone,
     literal or from parameters) and webhooks an import creates (templates/triggers.py).

Graph `schema_version`:
  0  the prototype canvas: nodes `{id, type, version, x, y, title, params}`, edges
     `{from: "node.port", to: "node.port"}` without ids, no schema_version key.
  1  current (flows/graph.py).

Each step is one pure function from version N to N+1; `migrate_template` applies them in
order, so any old file reaches the current format. Unknown future versions are refused.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable

from flows.graph import SCHEMA_VERSION
from templates.format import FORMAT_VERSION, PLACEHOLDER, TemplateError, check_shape, parse_template

_V1_PLACEHOLDER = re.compile(r"^\$param:([A-Za-z_][A-Za-z0-9_]{0,63})$")
_V1_TYPES = {"string": "string", "text": "string", "email": "string", "number": "number", "integer": "integer",
             "boolean": "boolean", "list": "array", "select": "string"}


# --- graph documents -------------------------------------------------------------------

def _graph_0_to_1(g: dict[str, Any]) -> dict[str, Any]:
    nodes = []
    for n in g.get("nodes") or []:
        if not isinstance(n, dict):
            raise TemplateError("graph v0: a node is an object", pointer="/graph/nodes", code="migration")
        nodes.append({"id": n.get("id"), "type": n.get("type"), "type_version": n.get("version", 1),
                      "position": {"x": n.get("x", 0), "y": n.get("y", 0)}, "label": n.get("title", ""),
                      "config": n.get("params") or {}})
    edges = []
    for i, e in enumerate(g.get("edges") or []):
        src, dst = str(e.get("from", "")), str(e.get("to", ""))
        s_node, _, s_port = src.partition(".")
        t_node, _, t_port = dst.partition(".")
        edges.append({"id": f"e{i + 1}", "source": s_node, "source_port": s_port or "output",
                      "target": t_node, "target_port": t_port or "input"})
    return {"schema_version": 1, "name": g.get("name", "Untitled"), "nodes": nodes, "edges": edges}


GRAPH_STEPS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _graph_0_to_1}


def migrate_graph(graph: Any) -> dict[str, Any]:
    if not isinstance(graph, dict):
        raise TemplateError("graph must be an object", pointer="/graph", code="schema")
    g = copy.deepcopy(graph)
    version = g.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise TemplateError("graph.schema_version must be a whole number", pointer="/graph/schema_version")
    if version > SCHEMA_VERSION:
        raise TemplateError(f"graph.schema_version {version} is newer than this server knows ({SCHEMA_VERSION})",
                            pointer="/graph/schema_version", code="version")
    while version < SCHEMA_VERSION:
        g = GRAPH_STEPS[version](g)
        version += 1
    return g


# --- template files --------------------------------------------------------------------

def _v1_placeholders(value: Any) -> Any:
    if isinstance(value, str):
        m = _V1_PLACEHOLDER.match(value)
        return {PLACEHOLDER: m.group(1)} if m else value
    if isinstance(value, dict):
        return {k: _v1_placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_v1_placeholders(v) for v in value]
    return value


def _v1_version(value: Any) -> int:
    """"1.2" -> 1002 (major * 1000 + minor): ordered like the old versions, and whole."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = re.fullmatch(r"(\d{1,6})(?:\.(\d{1,3}))?", str(value))
    if not m:
        raise TemplateError(f"format 1 version {value!r} is not major.minor", pointer="/version", code="migration")
    return int(m.group(1)) * 1000 + int(m.group(2) or 0)


def _template_1_to_2(t: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for i, p in enumerate(t.pop("params", None) or []):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str):
            raise TemplateError("format 1 params are objects with a name", pointer=f"/params/{i}", code="migration")
        kind = p.get("type", "string")
        if kind not in _V1_TYPES:
            raise TemplateError(f"format 1 param type {kind!r} is unknown", pointer=f"/params/{i}/type",
                                code="migration")
        prop: dict[str, Any] = {"type": _V1_TYPES[kind]}
        if kind == "email":
            prop["format"] = "email"
        if kind == "list":
            prop["items"] = {"type": "string"}
        for key in ("title", "description", "default", "enum"):
            if key in p:
                prop[key] = p[key]
        props[p["name"]] = prop
        if p.get("required"):
            required.append(p["name"])
    out: dict[str, Any] = {
        "format_version": 2, "id": t.get("id"), "version": _v1_version(t.get("version", 1)),
        "title": t.get("name", ""), "description": t.get("summary", ""),
        "category": t.get("category", "general"), "tags": t.get("tags", []), "icon": t.get("icon", "workflow"),
        "parameters": {"type": "object", "properties": props, **({"required": required} if required else {})},
        "graph": _v1_placeholders(t.get("graph")),
    }
    for key in ("ai_enhancements", "sample_input"):
        if key in t:
            out[key] = t[key]
    return out


def _template_2_to_3(t: dict[str, Any]) -> dict[str, Any]:
    """Format 3 only adds `triggers`. A format 2 file declared none, so it gets none: a
    parameter named `schedule` meant whatever its nodes did with it, and is left as it was."""
    if "triggers" in t:
        raise TemplateError("`triggers` arrived with format_version 3; this file says 2", pointer="/triggers",
                            code="schema")
    return {**t, "format_version": 3, "triggers": []}


TEMPLATE_STEPS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _template_1_to_2, 2: _template_2_to_3}


def migrate_template(raw: Any) -> dict[str, Any]:
    """Any known older template file -> the current format (graph included). Pure: the
    input is not modified. The result still goes through templates.format.parse_template."""
    if not isinstance(raw, dict):
        raise TemplateError("a template is a JSON object", code="schema")
    t = copy.deepcopy(raw)
    version = t.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise TemplateError("format_version is required (a whole number)", pointer="/format_version", code="schema")
    if version > FORMAT_VERSION or version < 1:
        raise TemplateError(f"format_version {version} is not one this server reads (1 to {FORMAT_VERSION})",
                            pointer="/format_version", code="version")
    while version < FORMAT_VERSION:
        t = TEMPLATE_STEPS[version](t)
        version += 1
    if "graph" in t:
        t["graph"] = migrate_graph(t["graph"])
    return t


def load_template(raw: Any, registry: Any) -> Any:
    """migrate + parse: the way every template file is read."""
    check_shape(raw)   # before migration walks it recursively
    return parse_template(migrate_template(raw), registry)
