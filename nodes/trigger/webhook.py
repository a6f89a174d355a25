"""trigger.webhook: starts a run when an HTTP request reaches the workflow's webhook URL.

The backend turns the request into the payload {"method", "path", "headers", "query", "body"}
and passes it as inputs["payload"]; this node checks the method and hands the payload on."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port
from nodes.trigger.manual import validate_payload

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

SPEC = NodeSpec(
    type="trigger.webhook",
    version=1,
    title="Webhook",
    category="trigger",
    icon="webhook",
    description="Starts the workflow when its webhook URL receives an HTTP request. "
                "Outputs {method, path, headers, query, body}.",
    inputs=(),
    outputs=(Port("output", "object", "The request: method, path, headers, query, body"),),
    trigger=True,
)


class Config(NodeConfig):
    methods: list[Method] = Field(default_factory=lambda: ["POST"], min_length=1,
                                  description="HTTP methods the webhook accepts")
    description: str = Field(default="", max_length=2000, description="What calls this webhook (shown to the team)")
    body_schema: dict[str, Any] | None = Field(default=None, description="Optional JSON Schema the request body must match")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    payload = inputs.get("payload")
    payload = {} if payload is None else payload
    if isinstance(payload, dict):
        method = str(payload.get("method") or "POST").upper()
        if method not in config.methods:
            raise NodeConfigError(f"webhook does not accept {method} (allowed: {', '.join(config.methods)})",
                                  pointer="/methods")
        validate_payload(payload.get("body"), config.body_schema)
    return {"output": payload}
