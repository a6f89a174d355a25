"""logic.merge: joins branches: waits for all of them, or continues with the first to arrive."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="logic.merge",
    version=1,
    title="Merge",
    category="logic",
    icon="merge",
    description="Joins branches. all: waits for every incoming branch and outputs the list of their values "
                "(branches not taken are left out); first: continues with the first value to arrive; "
                "combine: waits for all and merges their objects into one.",
    inputs=(Port("input", "any", "Any number of incoming branches", multiple=True),),
    outputs=(Port("output", "any", "List of values (all), the first value (first) or one object (combine)"),),
)


class Config(NodeConfig):
    mode: Literal["all", "first", "combine"] = Field(default="all", description="How to join the branches")


def ready(config: Config, arrived: int, pending: int) -> bool:
    """Engine hook: may the node start although `pending` edges have not resolved yet?"""
    if config.mode == "first":
        return arrived >= 1
    return pending == 0


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    values = inputs.get("input")
    values = [] if values is None else values if isinstance(values, list) else [values]
    if config.mode == "first":
        return {"output": values[0] if values else None}
    if config.mode == "combine":
        merged: dict[str, Any] = {}
        for n, v in enumerate(values):
            if not isinstance(v, dict):
                raise NodeConfigError(f"combine needs objects; branch {n + 1} sent {type(v).__name__}",
                                      pointer="/mode")
            merged.update(v)  # later branches (edge order) win
        return {"output": merged}
    return {"output": list(values)}
