"""n8n connections to our edges. `connections[source].main[i]` lists the targets of the source's
output i; the mappers say which of our ports output i is (IF: true/false, Switch: case_N and
default, Loop: results/item). What cannot be carried over is dropped with a note on the node:
connections of other kinds (AI sub-nodes), outputs with no equivalent, edges touching a node that
was not imported, and the edge that closes a Loop Over Items loop (our for_each runs its sub-path
per item without one)."""

from __future__ import annotations

from typing import Any

from templates.n8n.model import Mapped

_LOOP = "closes the loop"


def _reachable(conns: dict[str, Any], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        for targets in (conns.get(name) or {}).get("main") or []:
            for c in targets or []:
                if c["node"] not in seen:
                    seen.add(c["node"])
                    todo.append(c["node"])
    return seen


def edges(conns: dict[str, Any], mapped: dict[str, Mapped],
          notes: dict[str, list[str]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Our edges, in target-input order, and the join nodes they need; `notes` (by n8n name) gets a
    line per dropped connection, on the side that was not imported when one was not."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    for src, kinds in conns.items():
        for kind, outputs in kinds.items():
            for out_i, targets in enumerate(outputs):
                for c in targets or []:
                    dst, in_i = c["node"], c.get("index", 0)
                    why = _drop_reason(conns, mapped, src, kind, out_i, dst)
                    if why == _LOOP:
                        continue
                    if why:
                        side = dst if src in mapped and dst not in mapped else src
                        notes.setdefault(side, []).append(f"connection {src!r} -> {dst!r} dropped: {why}")
                        continue
                    m_src, m_dst = mapped[src], mapped[dst]
                    assert m_dst.entry is not None
                    for node, port in m_src.outputs[out_i]:
                        found.append((in_i, len(found), {"source": node, "source_port": port,
                                                          "target": m_dst.entry[0], "target_port": m_dst.entry[1]}))
    found.sort(key=lambda f: (f[0], f[1]))
    unique, seen = [e for m in mapped.values() for e in m.edges], set()
    for _, _, e in found:
        key = (e["source"], e["source_port"], e["target"], e["target_port"])
        if key not in seen:
            seen.add(key)
            unique.append(e)
    joins = _joins(unique, mapped, notes)
    return [{"id": f"e{i + 1}", **e} for i, e in enumerate(unique)], joins


def _joins(found: list[dict[str, Any]], mapped: dict[str, Mapped], notes: dict[str, list[str]]) -> list[dict[str, Any]]:
    """An input here takes one edge (logic.merge's takes many): where n8n joins several connections
    into one input, a logic.merge in `first` mode goes in front, re-pointing the edges in place."""
    taken = {node["id"] for m in mapped.values() for node in m.nodes}
    added = []
    for name, m in mapped.items():
        if m.entry is None or m.nodes[0]["type"] == "logic.merge":
            continue
        into = [e for e in found if (e["target"], e["target_port"]) == m.entry]
        if len(into) < 2:
            continue
        join, k = m.entry[0] + "_join", 2
        while join in taken:
            join, k = f"{m.entry[0]}_join{k}", k + 1
        taken.add(join)
        pos = next(x["position"] for x in m.nodes if x["id"] == m.entry[0])
        added.append({"id": join, "type": "logic.merge", "type_version": 1,
                      "position": {"x": pos["x"] - 120, "y": pos["y"]}, "label": f"Join before {name}"[:200],
                      "config": {"mode": "first"}})
        for e in into:
            e["target"], e["target_port"] = join, "input"
        found.append({"source": join, "source_port": "output", "target": m.entry[0], "target_port": m.entry[1]})
        notes.setdefault(name, []).append(f"{len(into)} connections join into its input: a logic.merge ({join}, "
                                          "mode first) goes in front, exact when one of them runs, as with the "
                                          "branches of an IF or Switch")
    return added


def _drop_reason(conns: dict[str, Any], mapped: dict[str, Mapped], src: str, kind: str, out_i: int,
                 dst: str) -> str:
    if kind != "main":
        return f"{kind} connections have no equivalent"
    if src not in mapped:
        return f"{src!r} was not imported"
    if dst not in mapped:
        return f"{dst!r} was not imported"
    if mapped[dst].entry is None:
        return f"{dst!r} is a trigger and takes no input"
    if out_i not in mapped[src].outputs:
        return f"output {out_i} has no equivalent"
    if mapped[dst].loop_back and src in _reachable(conns, dst):
        return _LOOP        # our for_each runs its sub-path per item; the edge closing the loop is not needed
    return ""
