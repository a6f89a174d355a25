"""logic.switch: routes the input to the first (or every) case whose test matches the value.

Output ports are static in a NodeSpec, so there are MAX_CASES case ports (case_1 ...
case_8) plus "default"; case n of the config list fires port case_<n>."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nodes.logic.compare import Operator, compare
from nodes.sdk import NodeConfig, NodeContext, NodeSpec, Port

MAX_CASES = 8

SPEC = NodeSpec(
    type="logic.switch",
    version=1,
    title="Switch",
    category="logic",
    icon="shuffle",
    description=f"Compares a value with up to {MAX_CASES} cases and routes the input to the matching case_N port, "
                "or to `default` when none matches.",
    inputs=(Port("input", "any", "Passed on unchanged to the port(s) taken"),),
    outputs=tuple(Port(f"case_{n}", "any", f"Case {n} matched") for n in range(1, MAX_CASES + 1))
    + (Port("default", "any", "No case matched"),),
)


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Operator = Field(default="eq", description="How the value is tested against this case")
    value: Any = Field(default=None, description="The case's value, e.g. 'paid'")
    label: str = Field(default="", max_length=100, description="Name shown on the port in the editor")


class Config(NodeConfig):
    value: Any = Field(default=None, description="The value to route on, e.g. {{ input.status }}")
    cases: list[Case] = Field(default_factory=list, max_length=MAX_CASES,
                              description=f"Cases in order; case N fires port case_N (at most {MAX_CASES})")
    match: Literal["first", "all"] = Field(default="first",
                                           description="Take the first matching case, or every matching case")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    value = inputs.get("input")
    out: dict[str, Any] = {}
    for n, case in enumerate(config.cases, start=1):
        if compare(config.value, case.op, case.value, pointer=f"/cases/{n - 1}"):
            out[f"case_{n}"] = value
            if config.match == "first":
                break
    return out or {"default": value}
