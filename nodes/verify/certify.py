"""verify.certify: a signed certificate over run outputs, appended to the tenant's ledger."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port
from nodes.verify.certificates import certify

SPEC = NodeSpec(
    type="verify.certify",
    version=1,
    title="Certify",
    category="verify",
    icon="award",
    description="Signs what it receives (e.g. the message sent and its verification results) with the "
                "tenant's Ed25519 key and appends it to the tenant's hash-chained ledger. Anyone can check "
                "the certificate at POST /api/certificates/verify or with `maily verify`.",
    inputs=(Port("input", "any", "The data to certify", multiple=True),),
    outputs=(Port("output", "object", "The certificate (JSON)"),),
    side_effects=True,   # a ledger entry is written
    side_effect_kind="unkeyed",   # a repeat appends a second entry
    default_retries=2,
)


class Config(NodeConfig):
    content: Any = Field(default=None, description="What to certify; empty: the node's inputs")
    label: str = Field(default="", max_length=200, description="A name stored with the certificate")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    content = config.content if config.content is not None else inputs.get("input")
    if isinstance(content, list) and len(content) == 1:
        content = content[0]
    if content is None:
        raise NodeConfigError("nothing to certify: connect an input or set content", pointer="/content")
    store = ctx.services.certifier
    subject = {"run_id": ctx.run_id, "node_id": ctx.node_id, "workflow_id": ctx.workflow_id, "label": config.label}
    try:
        cert = await certify(store, ctx.tenant_id, subject, content)
    except ValueError as exc:
        raise NodeConfigError(f"cannot certify: {exc}", pointer="/content") from None
    return {"output": cert}
