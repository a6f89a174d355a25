"""Bodies of the node panel's API: last data per node, expression previews, test runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nodes.expressions import MAX_TEMPLATE_CHARS


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NodeDataOut(BaseModel):
    """A node's latest node run in this workflow's draft runs (status, input, output, error)."""

    run_id: str
    status: str
    iteration: int | None
    finished_at: datetime | None
    input: Any = None
    output: Any = None
    error: Any = None


class LastDataOut(BaseModel):
    """What the panel shows: each asked node's latest data and the latest draft run's trigger input."""

    run_id: str | None = Field(description="The latest run of the draft, if any")
    trigger: Any = Field(default=None, description="That run's input (the `trigger` of expressions)")
    nodes: dict[str, NodeDataOut]


class PreviewIn(_In):
    expression: str = Field(max_length=MAX_TEMPLATE_CHARS, description="Text with {{ expressions }}, as in a config field")
    node_id: str | None = Field(default=None, description="The node whose field it is: its `input`, and `item`/`index` "
                                                          "inside a for_each, come from its upstream data")


class PreviewOut(BaseModel):
    ok: bool
    value: Any = Field(default=None, description="The rendered value (native for a whole {{ expression }}, else text)")
    type: str = Field(default="null", description="JSON type of the value: string, number, boolean, object, array, null")
    truncated: bool = Field(default=False, description="The value was larger than 64 KB; `value` is its first 1 KB of JSON")
    error: str | None = Field(default=None, description="The sandbox's message when the expression failed")
    run_id: str | None = Field(default=None, description="The run whose data it rendered against (pins win over it)")


SideEffectChoice = Literal["run", "reuse", "outbox"]


class TestRunIn(_In):
    node_id: str = Field(description="The node to execute, or to run up to")
    mode: Literal["node", "to_here"] = Field(default="node", description="node: this node alone, its upstream outputs "
                                             "from pins or the last run; to_here: every node on the path up to it")
    input: dict[str, Any] | None = Field(default=None, description="The trigger input; default: the trigger's pin, "
                                         "else the last draft run's input")
    side_effects: dict[str, SideEffectChoice] = Field(
        default_factory=dict, description="The answer to a 409 `side_effects` question, per node id: run (for real), "
                                          "reuse (its recorded output), outbox (email.send only)")
