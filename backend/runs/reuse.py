"""What a new pass of a run reuses: pure functions of the plan, the run's `waiting_on` and its
recorded node runs (as dicts), shared by the app (backend/runs/control.py) and, in production
mode, by the worker that executes the pass (backend/runs/worker.py), so both decide alike from
what the database holds.

Outputs are reused from the node runs' recorded `output`, which the engine caps at 64 KB: a
node whose output was recorded truncated cannot be reused (NotResumable names it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from flows.compile import Plan


class NotResumable(Exception):
    def __init__(self, node_id: str):
        super().__init__(f"node {node_id}'s output was larger than 64 KB and was recorded truncated, so it "
                         f"cannot be reused; start the workflow again instead")
        self.node_id = node_id


def truncated(value: Any) -> bool:
    return isinstance(value, dict) and value.get("truncated") is True and "preview" in value


def reusable_outputs(plan: Plan, rows: Iterable[dict[str, Any]],
                     exclude: Iterable[str] = (), *, handled: bool = False) -> dict[str, dict[str, Any]]:
    """Outputs of the main-path nodes that succeeded, except `exclude` (with `handled`, also of
    those whose failure their on_error handled: the run went on with that output); raises
    NotResumable when one of them was recorded truncated."""
    skip = set(exclude)
    reuse: dict[str, dict[str, Any]] = {}
    for row in rows:
        node = plan.nodes.get(row["node_id"])
        if node is None or node.scope is not None or row["iteration"] is not None or row["node_id"] in skip:
            continue
        went_on = handled and row["status"] == "failed" and node.on_error != "stop" and row["output"] is not None
        if row["status"] != "succeeded" and not went_on:
            continue
        if truncated(row["output"]) or not isinstance(row["output"], dict):
            raise NotResumable(row["node_id"])
        reuse[row["node_id"]] = row["output"]
    return reuse


def item_pins(plan: Plan, first_pass: dict[str, Any] | None, exclude: Iterable[str | None] = ()) -> dict[str, dict[str, Any]]:
    """The entries of a run's recorded first-pass reuse (`Run.reuse`: a test run's pins) for nodes
    inside a for_each's sub-path, which the engine gives to every item: each later pass, retry or
    re-run of the run gives them again, so a pinned node in a loop never executes unasked."""
    skip = set(exclude)
    return {nid: out for nid, out in (first_pass or {}).items() if nid in plan.nodes and nid not in skip
            and plan.nodes[nid].scope is not None and isinstance(out, dict)}


def downstream(plan: Plan, node_id: str) -> set[str]:
    """The node and every node reachable from it (a node inside a logic.for_each counts from
    its outermost for_each: the for_each's results depend on it)."""
    while plan.nodes[node_id].scope is not None:
        node_id = plan.nodes[node_id].scope  # type: ignore[assignment]
    seen, todo = {node_id}, [node_id]
    while todo:
        for edge in plan.nodes[todo.pop()].outgoing:
            if edge.target not in seen:
                seen.add(edge.target)
                todo.append(edge.target)
    return seen


def next_pass(plan: Plan, waiting_on: list[dict[str, Any]] | None, rows: list[dict[str, Any]],
              now: datetime, first_pass: dict[str, Any] | None = None
              ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The engine's `reuse` and `waiting` for the next pass of a waiting or paused run:
    completed main-path nodes are reused; a waiting node with a recorded decision (an approval,
    `entry["decision"]`) gives it, one whose `resume_at` has passed gives its recorded result,
    the others wait again, except those marked `resume` (a flow.subworkflow whose child run
    has ended), which execute again. Raises NotResumable."""
    reuse = reusable_outputs(plan, rows, handled=True)
    by_node = {r["node_id"]: r for r in rows if r["iteration"] is None}
    reuse.update(item_pins(plan, first_pass))   # the pins inside loops of the run's first pass (a test run)
    still: dict[str, dict[str, Any]] = {}
    for entry in waiting_on or ():
        nid, row = entry["node_id"], by_node.get(entry["node_id"])
        if nid in plan.nodes and plan.nodes[nid].scope is not None:
            continue                    # only the main path waits across passes
        output = row["output"] if row is not None else None
        due = entry.get("resume_at") and datetime.fromisoformat(entry["resume_at"]) <= now
        if isinstance(entry.get("decision"), dict):
            reuse[nid] = entry["decision"]
        elif due and isinstance(output, dict):
            if truncated(output):
                raise NotResumable(nid)
            reuse[nid] = output
        else:
            still[nid] = {"resume_at": entry.get("resume_at"), "reason": entry.get("reason"),
                          "details": entry.get("details") or {}, **({"output": output} if output is not None else {}),
                          # what it waited on has ended (a child run): the engine executes it again
                          **({"resume": True} if entry.get("resume") else {})}
    return reuse, still


def retry_reuse(plan: Plan, old_rows: list[dict[str, Any]], rerun_from: str | None,
                repeat: Iterable[str] = (), first_pass: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """What a retry (every succeeded node) or a re-run from a node (all but it and its
    downstream) of an old run reuses, with the `item_pins` of the old run's `first_pass` (but
    `rerun_from`'s own). A re-run never repeats a side effect that happened in the old run: a
    downstream node with unkeyed effects that succeeded is reused too, unless it is in
    `repeat`. Raises NotResumable, or EffectsToConfirm when one of them cannot be reused."""
    exclude = downstream(plan, rerun_from) if rerun_from and rerun_from in plan.nodes else set()
    reuse = {**item_pins(plan, first_pass, (rerun_from,)), **reusable_outputs(plan, old_rows, exclude=exclude)}
    allowed, ask = set(repeat), []
    for row in old_rows:
        nid = row["node_id"]
        node = plan.nodes.get(nid)
        if (node is None or nid not in exclude or nid in allowed or row["status"] != "succeeded"
                or node.type.spec.effects != "unkeyed" or nid in reuse):
            continue
        if nid == rerun_from or node.scope is not None or truncated(row["output"]) or not isinstance(row["output"], dict):
            ask.append(nid)             # running it again is the point (or it cannot be reused): ask
        else:
            reuse[nid] = row["output"]
    if ask:
        raise EffectsToConfirm(sorted(set(ask)), plan)
    return reuse


class EffectsToConfirm(Exception):
    """Nodes whose side effect already happened and would happen again: the caller must confirm."""

    def __init__(self, node_ids: list[str], plan: Plan):
        super().__init__(f"{', '.join(node_ids)} already had side effects in this run that running again would "
                         f"repeat; confirm with repeat: {node_ids}")
        self.node_ids = node_ids
        self.side_effects = [{"node_id": nid, "type": plan.nodes[nid].type.spec.type,
                              "title": plan.nodes[nid].type.spec.title, "already_ran": True} for nid in node_ids]
