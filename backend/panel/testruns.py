"""Test runs from the node panel: "execute this node" and "run to here" (docs/editor.md).

Both run a part of the draft: the node and everything upstream of it (with the whole per-item
sub-path of every logic.for_each on the way). What does not execute is reused, through the
engine's `reuse` (backend/runs/control.py): pinned nodes always; in "node" mode every upstream
node too, from its pin or its last successful output in the draft's runs. A pinned node inside
a for_each's sub-path gives its pin in every item (the engine reuses it item by item); executing
that very node runs it all the same, as on the main path.

Side effects ask first. A node with side effects that would execute needs an answer in
`side_effects` (run, reuse its recorded output, or for email.send the outbox); without one the
API answers 409 with the question. An upstream node whose side effect already happened in the
runs it reuses is reused without asking: a test run never repeats it unless told to `run`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.errors import Conflict, Unprocessable
from flows.pins import pins_of, without_pins
from nodes.registry import NodeRegistry
from nodes.sdk import NodeType

EMAIL_SEND = "email.send"


@dataclass
class TestPlan:
    graph: dict[str, Any]                               # the part of the draft to run, without pins
    reuse: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: list[str] = field(default_factory=list)     # email.send nodes sent to the outbox


def _types(graph: dict[str, Any], registry: NodeRegistry) -> dict[str, NodeType | None]:
    return {n["id"]: registry.get(n.get("type", ""), n.get("type_version", 1)) for n in graph["nodes"]}


def _each_targets(graph: dict[str, Any], types: dict[str, NodeType | None], fe: str) -> set[str]:
    """The per-item sub-path of for_each `fe`: every node reachable from its `each` ports."""
    each = {p.name for p in types[fe].spec.outputs if p.each} if types.get(fe) else set()
    todo = [e["target"] for e in graph["edges"] if e.get("source") == fe and e.get("source_port") in each]
    seen: set[str] = set()
    while todo:
        nid = todo.pop()
        if nid not in seen:
            seen.add(nid)
            todo.extend(e["target"] for e in graph["edges"] if e.get("source") == nid)
    return seen


def part_up_to(graph: dict[str, Any], types: dict[str, NodeType | None], node_id: str) -> tuple[set[str], set[str]]:
    """(the nodes that run up to node_id, those of them inside a for_each's sub-path)."""
    incoming: dict[str, list[str]] = {}
    for e in graph["edges"]:
        incoming.setdefault(e.get("target"), []).append(e.get("source"))
    part, scoped, todo = set(), set(), [node_id]
    while todo:
        nid = todo.pop()
        if nid in part or nid not in types:
            continue
        part.add(nid)
        todo.extend(incoming.get(nid, []))
        t = types[nid]
        if t is not None and any(p.each for p in t.spec.outputs):
            inner = _each_targets(graph, types, nid)
            scoped |= inner
            todo.extend(inner)
    return part, scoped


def _answer(nid: str, t: NodeType, choice: str | None, recorded: dict[str, Any] | None) -> str | None:
    if choice == "outbox" and t.spec.type != EMAIL_SEND:
        raise Unprocessable(f"node {nid}: only email.send can go to the outbox", field="side_effects",
                            pointer=f"/side_effects/{nid}", node_id=nid)
    if choice == "reuse" and recorded is None:
        raise Unprocessable(f"node {nid} has no recorded output to reuse", field="side_effects",
                            pointer=f"/side_effects/{nid}", node_id=nid)
    return choice


def plan_test_run(draft: dict[str, Any], registry: NodeRegistry, node_id: str, mode: str,
                  recorded: dict[str, dict[str, Any]], choices: dict[str, str]) -> TestPlan:
    """What a test run of `node_id` runs and reuses. `recorded`: each node's last successful
    output in the draft's runs. Raises Unprocessable (unknown node) or Conflict (an upstream node
    without output in "node" mode; side effects to confirm, listed in `side_effects`)."""
    pins = pins_of(draft)
    graph = without_pins(draft)
    types = _types(graph, registry)
    if node_id not in types:
        raise Unprocessable(f"node {node_id!r} is not in the draft", field="node_id", pointer="/node_id", node_id=node_id)
    part, scoped = part_up_to(graph, types, node_id)
    plan = TestPlan({**graph, "nodes": [n for n in graph["nodes"] if n["id"] in part],
                     "edges": [e for e in graph["edges"] if e.get("source") in part and e.get("target") in part]})
    loops = {fe: _each_targets(graph, types, fe) for fe in part
             if types[fe] is not None and any(p.each for p in types[fe].spec.outputs)}
    # a node inside a for_each runs with its loop: the main-path loops around it run too
    runs_alone = {node_id} if node_id not in scoped else {fe for fe, inner in loops.items() if node_id in inner}
    missing = []
    for nid in sorted(part - scoped):
        t = types[nid]
        if nid in pins and nid != node_id:      # executing a pinned node runs it all the same
            plan.reuse[nid] = pins[nid]
        elif mode == "node" and nid not in runs_alone:
            if nid in recorded:
                plan.reuse[nid] = recorded[nid]
            elif t is None or not t.spec.trigger:
                missing.append(nid)
    for nid in sorted(scoped & pins.keys() - {node_id}):
        plan.reuse[nid] = pins[nid]             # given in every item of its loop
    if missing:
        raise Conflict(f"{', '.join(missing)} never ran and {'is' if len(missing) == 1 else 'are'} not pinned: "
                       f"run to here first, or pin {'it' if len(missing) == 1 else 'them'}",
                       problems=[{"node_id": nid} for nid in missing])
    executing = part - scoped - set(plan.reuse)
    for fe in [fe for fe in loops if fe in executing]:
        executing |= loops[fe] - set(plan.reuse)
    questions = []
    for nid in sorted(executing):
        t = types[nid]
        if t is None or not t.spec.side_effects:
            continue
        reusable = nid in recorded and nid not in scoped
        choice = _answer(nid, t, choices.get(nid), recorded.get(nid) if reusable else None)
        if choice is None and nid != node_id and reusable:
            choice = "reuse"        # it happened already in the runs reused: never repeat it unasked
        if choice == "reuse":
            plan.reuse[nid] = recorded[nid]
        elif choice == "outbox":
            plan.outbox.append(nid)
        elif choice is None:
            questions.append({"node_id": nid, "type": t.spec.type, "title": t.spec.title, "already_ran": nid in recorded,
                              "choices": ["run"] + (["reuse"] if reusable else [])
                              + (["outbox"] if t.spec.type == EMAIL_SEND else [])})
    if questions:
        raise Conflict("these nodes have side effects: confirm each (run, reuse or outbox) in side_effects",
                       side_effects=questions)
    if plan.outbox:
        plan.graph["nodes"] = [{**n, "config": {**(n.get("config") or {}), "provider": "outbox"}}
                               if n["id"] in plan.outbox else n for n in plan.graph["nodes"]]
    return plan


def trigger_input(draft: dict[str, Any], registry: NodeRegistry, given: dict[str, Any] | None,
                  last_input: Any) -> dict[str, Any]:
    """The run input: the one given, else a pinned trigger's output, else the last draft run's."""
    if given is not None:
        return given
    for nid, pin in pins_of(draft).items():
        node = next(n for n in draft["nodes"] if n.get("id") == nid)
        t = registry.get(node.get("type", ""), node.get("type_version", 1))
        value = next(iter(pin.values()), None)
        if t is not None and t.spec.trigger and isinstance(value, dict):
            return value
    return last_input if isinstance(last_input, dict) else {}
