"""test.bearer_call: a node with a credential field (x-credential), registered into the test app,
so that "where is it used" and delete-in-use see a real node type's schema."""

from __future__ import annotations

from typing import Any

from nodes.credentials import credential_field, resolve_credential
from nodes.sdk import NodeConfig, NodeContext, NodeSpec, NodeType, Port

SPEC = NodeSpec(type="test.bearer_call", version=1, title="Bearer call (test)", category="data", icon="edit",
                description="Resolves its credential and outputs the token's length.",
                inputs=(Port("input", "any", "anything"),), outputs=(Port("output", "object", "the length"),))


class Config(NodeConfig):
    auth: str | None = credential_field("bearer")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    cred = await resolve_credential(ctx, config.auth or "", ("bearer",))
    return {"output": {"length": len(cred.fields["token"])}}


def node_type() -> NodeType:
    import sys

    return NodeType.from_module(sys.modules[__name__], source="tests")


def graph(credential_id: str | None, node_id: str = "call") -> dict[str, Any]:
    """A two-node graph whose test.bearer_call node uses credential_id."""
    return {"schema_version": 1, "name": "uses a credential", "nodes": [
        {"id": "start", "type": "trigger.manual", "type_version": 1, "position": {"x": 0, "y": 0}, "label": "Start",
         "config": {}},
        {"id": node_id, "type": "test.bearer_call", "type_version": 1, "position": {"x": 200, "y": 0},
         "label": "Call", "config": {"auth": credential_id}}],
        "edges": [{"id": "e1", "source": "start", "source_port": "output", "target": node_id, "target_port": "input"}]}
