"""What mapping one n8n node gives: our node(s), how its n8n outputs land on our ports, and
what the backend must create (vault entries, schedules, webhooks). Plain data, no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from templates.n8n.expressions import Scope, translate_value

Status = Literal["mapped", "partial", "unmapped"]
N8N_PREFIX = "n8n-nodes-base."


@dataclass
class CredentialNeed:
    """An empty vault entry to create (or an existing one of that name and type to reuse) and
    the node field that holds its id."""

    type: str            # our credential type (backend/credentials/types.py)
    name: str            # the vault name, from the n8n credential's name
    n8n_type: str
    node_id: str
    field: str = "credential"


@dataclass
class TriggerNeed:
    """A schedule (`cron`, `timezone`) or a webhook (`respond`, `description`) for the new workflow."""

    type: Literal["schedule", "webhook"]
    node_id: str
    data: dict[str, Any]


@dataclass
class Mapped:
    """Our nodes for one n8n node. `entry` receives the n8n node's input; `outputs[i]` lists where
    the n8n output i leaves from, as (node id, port) (a Switch rule and its fallback may share one)."""

    nodes: list[dict[str, Any]]
    entry: tuple[str, str] | None
    outputs: dict[int, list[tuple[str, str]]]
    status: Status = "mapped"
    notes: list[str] = field(default_factory=list)
    credentials: list[CredentialNeed] = field(default_factory=list)
    triggers: list[TriggerNeed] = field(default_factory=list)
    loop_back: bool = False      # SplitInBatches: edges into it from its own loop are dropped
    edges: list[dict[str, str]] = field(default_factory=list)   # between its own nodes (source, ..., target_port)


class Unmapped(Exception):
    """This n8n node has no equivalent; it becomes a sticky note."""


@dataclass
class NodeIn:
    """One n8n node as the mappers see it, with the helpers they share."""

    id: str                      # our node id for it
    name: str
    type: str                    # without the n8n-nodes-base. prefix
    version: float
    params: dict[str, Any]
    credentials: dict[str, Any]
    position: dict[str, float]
    scope: Scope
    notes: list[str] = field(default_factory=list)

    def node(self, type_: str, config: dict[str, Any], *, suffix: str = "", dx: float = 0,
             label: str | None = None) -> dict[str, Any]:
        return {"id": self.id + suffix, "type": type_, "type_version": 1,
                "position": {"x": self.position["x"] + dx, "y": self.position["y"]},
                "label": (label or self.name)[:200], "config": config}

    def expr(self, value: Any, where: str, scope: Scope | None = None) -> Any:
        return translate_value(value, scope or self.scope, self.notes, where)

    def single(self, type_: str, config: dict[str, Any], ports: tuple[str, ...] = ("output",),
               entry_port: str | None = "input") -> Mapped:
        return Mapped([self.node(type_, config)], (self.id, entry_port) if entry_port else None,
                      {i: [(self.id, p)] for i, p in enumerate(ports)})

    def ignored(self, *keys: str) -> None:
        """Note parameters that were set in n8n and are not carried over."""
        for k in keys:
            v = self.params.get(k)
            if v not in (None, "", {}, []):
                self.notes.append(f"parameter {k} ({json_short(v)}) has no equivalent and was left out")


def json_short(v: Any, limit: int = 120) -> str:
    s = json.dumps(v, ensure_ascii=False, sort_keys=True)
    return s if len(s) <= limit else s[:limit] + "…"
