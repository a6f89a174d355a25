"""verify.email_address: deliverable, risky, undeliverable or unknown, with reasons."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port
from nodes.verify.address import check_address

SPEC = NodeSpec(
    type="verify.email_address",
    version=1,
    title="Verify email address",
    category="verify",
    icon="check-circle",
    description="Checks syntax, the domain's mail servers (MX, else A), disposable and role addresses. "
                "Gives deliverable / risky / undeliverable / unknown with reasons; when DNS does not "
                "answer the result is unknown, not a failure.",
    inputs=(Port("input", "any"),),
    outputs=(Port("output", "object", "One result, or {results, counts} for a list"),),
)

MAX_ADDRESSES = 5_000


class Config(NodeConfig):
    address: Any = Field(description="An address or a list of addresses, e.g. {{ input.email }}")
    concurrency: int = Field(default=10, ge=1, le=50, description="Lookups at once")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    many = isinstance(config.address, list)
    addresses = config.address if many else [config.address]
    if len(addresses) > MAX_ADDRESSES:
        raise NodeConfigError(f"more than {MAX_ADDRESSES} addresses in one step", pointer="/address")
    if not all(isinstance(a, str) for a in addresses):
        raise NodeConfigError("addresses must be text", pointer="/address")
    dns_settings = ctx.services.dns
    gate = asyncio.Semaphore(config.concurrency)

    async def one(a: str) -> dict[str, Any]:
        async with gate:
            return await check_address(a.strip(), dns_settings)

    results = await asyncio.gather(*(one(a) for a in addresses))
    if not many:
        return {"output": results[0]}
    counts = {k: sum(r["result"] == k for r in results) for k in ("deliverable", "risky", "undeliverable", "unknown")}
    return {"output": {"results": list(results), "counts": counts}}
