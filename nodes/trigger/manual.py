"""trigger.manual: starts a run from the editor's Run button or the API with a JSON payload."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nodes.user_schema import SchemaError, ValidationError, validate_user_schema
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="trigger.manual",
    version=1,
    title="Manual trigger",
    category="trigger",
    icon="play",
    description="Starts the workflow by hand (Run button or API). Outputs the run's input payload.",
    inputs=(),
    outputs=(Port("output", "object", "The run input payload"),),
    trigger=True,
)


class Config(NodeConfig):
    input_schema: dict[str, Any] | None = Field(
        default=None, description="Optional JSON Schema the run input must match; checked when the run starts"
    )
    sample: dict[str, Any] | None = Field(
        default=None, description="Sample input the editor uses for test runs and expression previews"
    )


def validate_payload(payload: Any, schema: dict[str, Any] | None) -> None:
    """NodeConfigError pointing into the payload when it does not match the schema."""
    if not schema:
        return
    try:
        validate_user_schema(payload, schema)
    except ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path)
        raise NodeConfigError(f"run input does not match the input schema: {e.message}",
                              pointer=f"/inputs/payload/{where}".rstrip("/")) from None
    except SchemaError as e:
        raise NodeConfigError(f"input schema is not a valid JSON Schema: {e.message}", pointer="/input_schema") from None


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    payload = inputs.get("payload")
    payload = {} if payload is None else payload
    validate_payload(payload, config.input_schema)
    return {"output": payload}
