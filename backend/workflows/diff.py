"""What changed between two graphs (versions, or a version and the draft).

Elements are matched by id. A changed element lists the top-level fields that differ and
each change as a JSON pointer relative to the element (`/label`, `/config/url`,
`/config/headers/Accept`): config is compared key by key, recursively through objects;
arrays and other values are compared whole.
"""

from __future__ import annotations

from typing import Any

from flows.jsonequal import same
from flows.pointer import token

Change = dict[str, Any]


def _changes(old: Any, new: Any, pointer: str, descend: bool) -> list[Change]:
    if same(old, new):
        return []
    if descend and isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for key in sorted(old.keys() | new.keys()):
            sub = f"{pointer}/{token(key)}"
            if key not in new:
                out.append({"pointer": sub, "op": "remove", "from": old[key]})
            elif key not in old:
                out.append({"pointer": sub, "op": "add", "to": new[key]})
            else:
                out += _changes(old[key], new[key], sub, True)
        return out
    return [{"pointer": pointer, "op": "replace", "from": old, "to": new}]


def _element_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[str], list[Change]]:
    fields: list[str] = []
    changes: list[Change] = []
    for key in sorted((old.keys() | new.keys()) - {"id"}):
        pointer = "/" + token(key)
        if key not in new:
            found = [{"pointer": pointer, "op": "remove", "from": old[key]}]
        elif key not in old:
            found = [{"pointer": pointer, "op": "add", "to": new[key]}]
        else:
            found = _changes(old[key], new[key], pointer, descend=key == "config")
        if found:
            fields.append(key)
            changes += found
    return fields, changes


def _index(graph: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    items = graph.get(key) if isinstance(graph, dict) else None
    return {i["id"]: i for i in items or [] if isinstance(i, dict) and isinstance(i.get("id"), str)}


def _diff_list(old: dict[str, Any], new: dict[str, Any], key: str) -> dict[str, list[Any]]:
    a, b = _index(old, key), _index(new, key)
    changed = []
    for element_id in sorted(a.keys() & b.keys()):
        fields, changes = _element_changes(a[element_id], b[element_id])
        if fields:
            changed.append({"id": element_id, "fields": fields, "changes": changes})
    return {"added": [b[i] for i in sorted(b.keys() - a.keys())],
            "removed": [a[i] for i in sorted(a.keys() - b.keys())],
            "changed": changed}


def diff_graphs(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`{nodes, edges, notes}` each `{added, removed, changed}`, plus the changed top-level
    fields of the document (`name`, ...) in `document`."""
    scalar_keys = ((old.keys() | new.keys()) - {"nodes", "edges", "notes"})
    document = [c for k in sorted(scalar_keys)
                for c in (_changes(old.get(k), new.get(k), "/" + token(k), descend=False))]
    return {"nodes": _diff_list(old, new, "nodes"), "edges": _diff_list(old, new, "edges"),
            "notes": _diff_list(old, new, "notes"), "document": document}


def is_empty(d: dict[str, Any]) -> bool:
    return not d["document"] and not any(d[k][part] for k in ("nodes", "edges", "notes")
                                         for part in ("added", "removed", "changed"))
