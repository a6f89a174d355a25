"""webhook.respond: sets what the sender of the webhook request that started the run gets back.

Used with a webhook whose `respond` is "node" (docs/triggers.md): the endpoint answers as soon as
this node has run, with its `status`, `headers` and `body` (all expressions); the run goes on.
The answer is served from the app's origin, so headers that would act on it (cookies, CSP, CORS,
HSTS, framing...) are refused, and the endpoint adds its own sandboxing headers."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from nodes.sdk import NodeConfig, NodeContext, NodeSpec, Port

# Headers a workflow may not set on an answer from the app's origin, and those the server owns.
FORBIDDEN_HEADERS = frozenset({
    "set-cookie", "set-cookie2", "content-security-policy", "content-security-policy-report-only",
    "strict-transport-security", "x-frame-options", "x-content-type-options", "referrer-policy",
    "permissions-policy", "cross-origin-opener-policy", "cross-origin-embedder-policy",
    "cross-origin-resource-policy", "clear-site-data", "content-length", "transfer-encoding", "connection",
    "keep-alive", "upgrade", "trailer", "te", "server", "date", "alt-svc",
})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")

SPEC = NodeSpec(
    type="webhook.respond",
    version=1,
    title="Respond to webhook",
    category="webhook",
    icon="reply",
    description="Answers the HTTP request that started the run (a webhook set to respond from a node) "
                "with a status, headers and body. The run goes on after it.",
    inputs=(Port("input", "any", "Available to the expressions as `input`"),),
    outputs=(Port("output", "object", "The answer sent: {status, headers, body}"),),
)


class Config(NodeConfig):
    status: int = Field(default=200, ge=200, le=599, description="HTTP status code")
    headers: dict[str, str] = Field(default_factory=dict, description="Response headers (no cookies, CSP or CORS)")
    body: Any = Field(default=None, description="The body: text is sent as text/plain, anything else as JSON")

    @field_validator("headers")
    @classmethod
    def _allowed(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            low = name.lower()
            if not _TOKEN.match(name):
                raise ValueError(f"{name!r} is not a header name")
            if low in FORBIDDEN_HEADERS or low.startswith("access-control-"):
                raise ValueError(f"the header {name} cannot be set by a workflow")
            if "\r" in value or "\n" in value or len(value) > 8192:
                raise ValueError(f"the value of {name} must be one line of at most 8192 characters")
        return headers


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"output": {"status": config.status, "headers": config.headers, "body": config.body}}
