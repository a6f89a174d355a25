"""logic.if: sends the input down the "true" or the "false" branch."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nodes.expressions import truthy
from nodes.logic.compare import Operator, compare
from nodes.sdk import NodeConfig, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="logic.if",
    version=1,
    title="If",
    category="logic",
    icon="git-branch",
    description="Routes the input to `true` or `false`: by an expression such as {{ input.total > 100 }}, "
                "or by comparing two values.",
    inputs=(Port("input", "any", "Passed on unchanged to the branch taken"),),
    outputs=(Port("true", "any", "Taken when the condition holds"),
             Port("false", "any", "Taken otherwise")),
)


class Config(NodeConfig):
    mode: Literal["expression", "compare"] = Field(default="expression",
                                                   description="Test an expression, or compare left with right")
    condition: Any = Field(default=None, description="expression mode: e.g. {{ input.total > 100 }}; "
                           "text such as 'false', '0', 'no' or '' counts as false")
    left: Any = Field(default=None, description="compare mode: left value, e.g. {{ input.status }}")
    op: Operator = Field(default="eq", description="compare mode: operator")
    right: Any = Field(default=None, description="compare mode: right value")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    # The engine has already rendered the expressions; only the decision is left.
    if config.mode == "compare":
        result = compare(config.left, config.op, config.right, pointer="/op")
    else:
        result = truthy(config.condition)
    return {"true" if result else "false": inputs.get("input")}
