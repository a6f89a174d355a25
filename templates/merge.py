"""Three-way merge of graph documents: a template update into a workflow draft.

base   = the graph the workflow was created from (the template version imported, with the
         workflow's parameters substituted),
theirs = the new template version (same parameters),
ours   = the draft as it is now.

Elements (nodes, edges, notes) are matched by id; inside an element, objects are merged
key by key, recursively (so a changed `config.subject` upstream and a changed
`config.html` by the user both survive); any other value is taken whole. Where only one
side changed something, that side wins; where both changed it differently, ours is kept
and a conflict is reported with the three values, unless `choices` maps that conflict's
pointer to "theirs" (the user took the template's value; "mine" or no choice keeps ours).
Edges left pointing at a node that no longer exists are dropped (reported too; that is not
a choice).
"""

from __future__ import annotations

import copy
from typing import Any

from flows.jsonequal import same
from flows.pointer import parts as pointer_parts
from flows.pointer import token

_MISSING: Any = object()
LISTS = ("nodes", "edges", "notes")


def _plain(v: Any) -> Any:
    return None if v is _MISSING else v


def _eq(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    return same(a, b)


def _where(pointer: str) -> dict[str, Any]:
    """`/nodes/say/config/subject` -> element "node", id "say", field "config.subject" (for display)."""
    parts = pointer_parts(pointer)
    if parts and parts[0] in LISTS and len(parts) >= 2:
        return {"element": parts[0][:-1], "id": parts[1], "field": ".".join(parts[2:])}
    return {"element": "graph", "id": None, "field": ".".join(parts)}


def _merge_value(base: Any, ours: Any, theirs: Any, pointer: str, conflicts: list[dict[str, Any]],
                 choices: dict[str, str]) -> Any:
    if _eq(ours, theirs):
        return ours
    if _eq(base, ours):
        return theirs
    if _eq(base, theirs):
        return ours
    if isinstance(ours, dict) and isinstance(theirs, dict) and isinstance(base, dict):
        out: dict[str, Any] = {}
        for key in list(ours) + [k for k in theirs if k not in ours]:
            v = _merge_value(base.get(key, _MISSING), ours.get(key, _MISSING), theirs.get(key, _MISSING),
                             f"{pointer}/{token(key)}", conflicts, choices)
            if v is not _MISSING:
                out[key] = v
        return out
    take = "theirs" if choices.get(pointer) == "theirs" else "mine"
    conflicts.append({"pointer": pointer, **_where(pointer), "base": _plain(base), "ours": _plain(ours),
                      "theirs": _plain(theirs), "choosable": True, "resolution": take})
    return theirs if take == "theirs" else ours


def _index(graph: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in graph.get(key) or [] if isinstance(i, dict) and isinstance(i.get("id"), str)}


def merge_graphs(base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any],
                 choices: dict[str, str] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(merged graph, conflicts). Conflicts: `{pointer, element, id, field, base, ours, theirs,
    choosable, resolution}` with the JSON pointer into the merged document's element
    (`/nodes/<id>/config/subject`) and which value the merge took ("mine" unless `choices`
    says "theirs" for that pointer)."""
    choices = choices or {}
    conflicts: list[dict[str, Any]] = []
    merged: dict[str, Any] = {}
    for key in list(ours) + [k for k in theirs if k not in ours]:
        if key in LISTS:
            continue
        v = _merge_value(base.get(key, _MISSING), ours.get(key, _MISSING), theirs.get(key, _MISSING),
                         f"/{token(key)}", conflicts, choices)
        if v is not _MISSING:
            merged[key] = v
    for key in LISTS:
        b, o, t = _index(base, key), _index(ours, key), _index(theirs, key)
        order = list(o) + [i for i in t if i not in o]
        items = []
        for element_id in order:
            v = _merge_value(b.get(element_id, _MISSING), o.get(element_id, _MISSING), t.get(element_id, _MISSING),
                             f"/{key}/{token(element_id)}", conflicts, choices)
            if v is not _MISSING:
                items.append(copy.deepcopy(v))
        if items or key in ours or key in theirs:
            merged[key] = items
    node_ids = {n["id"] for n in merged.get("nodes", [])}
    kept = []
    for e in merged.get("edges", []):
        if e.get("source") in node_ids and e.get("target") in node_ids:
            kept.append(e)
        else:
            pointer = f"/edges/{token(e['id'])}"
            conflicts.append({"pointer": pointer, **_where(pointer), "base": None, "ours": e, "theirs": None,
                              "choosable": False, "resolution": "dropped",
                              "reason": "edge to a node that the merge removed; dropped"})
    if "edges" in merged:
        merged["edges"] = kept
    return merged, conflicts
