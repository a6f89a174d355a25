"""trigger.rss: starts a run per new item of an RSS or Atom feed.

Publishing the workflow registers a poller (backend/feeds/): it fetches `url` every `interval_s`
seconds through the SSRF-guarded client, remembers the items it has seen, and starts one run per
new item with the item as payload; this node hands the payload on."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nodes.sdk import NodeConfig, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="trigger.rss",
    version=1,
    title="RSS / Atom feed",
    category="trigger",
    icon="rss",
    description="Starts the workflow for each new item of a feed, polled on a schedule once the workflow is "
                "published. Outputs {title, link, id, published, updated, summary, content, author, tags, feed}.",
    inputs=(),
    outputs=(Port("output", "object", "The feed item: title, link, id, published, summary, author..."),),
    trigger=True,
)


class Config(NodeConfig):
    url: str = Field(min_length=1, max_length=2000, description="The feed's URL (http or https)",
                     pattern=r"^[hH][tT][tT][pP][sS]?://")
    interval_s: int = Field(default=300, ge=30, le=86400, description="Seconds between two polls (at least 30)")
    fire_on_existing: bool = Field(default=False, description="Start a run for the items already in the feed "
                                                              "at the first poll (by default they are only recorded)")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    payload = inputs.get("payload")
    return {"output": {} if payload is None else payload}
