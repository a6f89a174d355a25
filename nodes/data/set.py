"""data.set: build an object from fields, optionally on top of the incoming object."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import Field

from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="data.set",
    version=1,
    title="Set fields",
    category="data",
    icon="edit",
    description="Sets fields to fixed values or {{ expressions }}. Keys with dots (a.b) set nested fields.",
    inputs=(Port("input", "any", "Object to add the fields to (with keep_input)"),),
    outputs=(Port("output", "object", "The resulting object"),),
)


class Config(NodeConfig):
    values: dict[str, Any] = Field(default_factory=dict,
                                   description="Field name -> value; values may use {{ expressions }}")
    keep_input: bool = Field(default=False, description="Start from the incoming object and set the fields on it")


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[last] = value


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    incoming = inputs.get("input")
    result: dict[str, Any] = {}
    if config.keep_input and incoming is not None:
        if not isinstance(incoming, dict):
            raise NodeConfigError(f"keep_input needs an object as input, got {type(incoming).__name__}",
                                  pointer="/inputs/input")
        result = copy.deepcopy(incoming)  # never mutate an upstream node's output
    for key, value in config.values.items():
        if not key or any(not part for part in key.split(".")):
            raise NodeConfigError(f"invalid field name {key!r}", pointer=f"/values/{key}")
        _set_path(result, key, value)
    return {"output": result}
