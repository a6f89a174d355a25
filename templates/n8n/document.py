"""The shape of an n8n workflow export, checked before anything is mapped, and node ids for it.

    {"name", "nodes": [{"id", "name", "type", "typeVersion", "position": [x, y], "parameters",
                        "credentials"?, "disabled"?, "onError"?, ...}],
     "connections": {"<source name>": {"main": [[{"node", "type", "index"}], ...]}}, "settings", ...}

A problem is an N8nExportError naming the field with a JSON pointer (the API's 422)."""

from __future__ import annotations

import re
from typing import Any

from flows.pointer import pointer

MAX_N8N_NODES = 500


class N8nExportError(Exception):
    def __init__(self, message: str, pointer: str = "") -> None:
        super().__init__(message)
        self.message, self.pointer = message, pointer


def _fail(message: str, *path: Any) -> N8nExportError:
    return N8nExportError(message, pointer(*path) if path else "")


def check_export(raw: Any) -> dict[str, Any]:
    """The export, with each node's optional fields filled in; N8nExportError naming the field."""
    if not isinstance(raw, dict):
        raise _fail("not an n8n workflow export: expected a JSON object with nodes and connections")
    if "schema_version" in raw or "format_version" in raw:
        raise _fail("this is a Maily Flow graph or template, not an n8n export: use POST /api/workflows or "
                    "POST /api/templates/upload")
    nodes = raw.get("nodes")
    if not isinstance(nodes, list):
        raise _fail("not an n8n workflow export: `nodes` must be a list of nodes", "nodes")
    if len(nodes) > MAX_N8N_NODES:
        raise _fail(f"{len(nodes)} nodes; an import takes at most {MAX_N8N_NODES}", "nodes")
    name = raw.get("name", "Imported from n8n")
    if not isinstance(name, str):
        raise _fail("`name` must be text", "name")
    seen: set[str] = set()
    out = []
    for i, n in enumerate(nodes):
        if not isinstance(n, dict):
            raise _fail(f"node {i} must be an object", "nodes", i)
        for key in ("name", "type"):
            if not isinstance(n.get(key), str) or not n[key]:
                raise _fail(f"node {i}: `{key}` must be non-empty text", "nodes", i, key)
        if n["name"] in seen:
            raise _fail(f"node {i}: two nodes are named {n['name']!r}", "nodes", i, "name")
        seen.add(n["name"])
        pos = n.get("position", [0, 0])
        if (not isinstance(pos, list) or len(pos) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)):
            raise _fail(f"node {i}: `position` must be [x, y]", "nodes", i, "position")
        version = n.get("typeVersion", 1)
        if not isinstance(version, (int, float)) or isinstance(version, bool):
            raise _fail(f"node {i}: `typeVersion` must be a number", "nodes", i, "typeVersion")
        for key in ("parameters", "credentials"):
            if not isinstance(n.get(key, {}), dict):
                raise _fail(f"node {i}: `{key}` must be an object", "nodes", i, key)
        out.append({**n, "position": {"x": float(pos[0]), "y": float(pos[1])}, "typeVersion": version,
                    "parameters": n.get("parameters") or {}, "credentials": n.get("credentials") or {}})
    conns = raw.get("connections", {})
    if not isinstance(conns, dict):
        raise _fail("`connections` must be an object of source node names", "connections")
    for src, kinds in conns.items():
        if src not in seen:
            raise _fail(f"connections name a node {src!r} that is not in `nodes`", "connections", src)
        if not isinstance(kinds, dict):
            raise _fail(f"connections of {src!r} must be an object", "connections", src)
        for kind, outputs in kinds.items():
            if not isinstance(outputs, list):
                raise _fail(f"connections of {src!r}: {kind} must be a list of outputs", "connections", src, kind)
            for o, targets in enumerate(outputs):
                for t, c in enumerate(targets or []):
                    if not isinstance(c, dict) or c.get("node") not in seen:
                        raise _fail(f"connections of {src!r}: output {o} goes to a node that is not in `nodes`",
                                    "connections", src, kind, o, t)
                    if not isinstance(c.get("index", 0), int):
                        raise _fail(f"connections of {src!r}: `index` must be a number",
                                    "connections", src, kind, o, t, "index")
    return {**raw, "name": name, "nodes": out, "connections": conns}


def node_ids(names: list[str], reserve_send: set[str]) -> dict[str, str]:
    """Our node id for each n8n name: its letters, digits and underscores, unique (a name in
    `reserve_send` also keeps `<id>_send` free, for the second node of Send Email)."""
    used: set[str] = set()
    out = {}
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")[:56] or "node"
        if not re.match(r"[A-Za-z_]", base):
            base = "n_" + base
        cand, k = base, 2
        while cand in used or cand + "_send" in used or (name in reserve_send and cand + "_send" in used):
            cand, k = f"{base}_{k}", k + 1
        used.add(cand)
        if name in reserve_send:
            used.add(cand + "_send")
        out[name] = cand
    return out
