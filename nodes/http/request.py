"""http.request: calls an HTTP API through the SSRF-guarded SafeHttpClient."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field

from nodes.credentials import HTTP_AUTH_TYPES
from nodes.http.auth import http_client, send
from nodes.net import SafeResponse, retry_after_s
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, NodeTemporaryError, Port, credential_field

SPEC = NodeSpec(
    type="http.request",
    version=1,
    title="HTTP request",
    category="http",
    icon="globe",
    description="Calls a URL and outputs {status, headers, body}. 429 and 5xx answers are retried; "
                "private network addresses are refused unless the operator allows them.",
    inputs=(Port("input", "any", "Available to expressions as `input`"),),
    outputs=(Port("output", "object", "{status, headers, body}"),),
    side_effects=True,
    side_effect_kind="unkeyed",   # the remote may act on each request; no idempotency key is sent
    default_retries=2,
)


class Config(NodeConfig):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = Field(default="GET")
    url: str = Field(min_length=1, max_length=8192, description="http(s) URL, e.g. https://api.example.com/items")
    query: dict[str, Any] = Field(default_factory=dict, description="Query parameters added to the URL")
    headers: dict[str, Any] = Field(default_factory=dict, description="Request headers (values are sent as text)")
    credential: str | None = credential_field(
        *HTTP_AUTH_TYPES, description="Authentication from the workspace's credentials: bearer, basic, "
        "an API-key header or query parameter, or OAuth2 (refreshed before expiry and once on a 401)")
    body: Any = Field(default=None, description="Request body: any JSON value (json) or text (text)")
    body_type: Literal["json", "text"] = Field(default="json", description="How the body is sent")
    response_type: Literal["auto", "json", "text"] = Field(
        default="auto", description="auto parses JSON when the server says it is JSON")
    fail_on_status: bool = Field(default=True, description="Fail on 4xx (not retried) and 5xx/429 (retried); "
                                 "off: every status is an output")


def _body(resp: SafeResponse, response_type: str, method: str) -> Any:
    if method == "HEAD" or not resp.body_bytes:
        return None if response_type != "text" else ""
    is_json = "json" in resp.headers.get("content-type", "")
    if response_type == "json" or (response_type == "auto" and is_json):
        try:
            return json.loads(resp.body_bytes)
        except ValueError:
            if response_type == "json":
                raise NodeConfigError("response is not valid JSON", pointer="/response_type") from None
    return resp.text()


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    params = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in config.query.items()}
    headers = {k: str(v) for k, v in config.headers.items() if v is not None}
    payload: dict[str, Any] = {}
    if config.body is not None and config.method not in ("GET", "HEAD"):
        if config.body_type == "json":
            payload["json"] = config.body
        else:
            payload["content"] = config.body if isinstance(config.body, str) else json.dumps(config.body)
    async with http_client(ctx, config.timeout_s) as client:
        resp = await send(ctx, client, config.credential, config.method, config.url, headers, params, **payload)
    body = _body(resp, config.response_type, config.method)
    if config.fail_on_status:
        if resp.status == 429 or resp.status >= 500:
            raise NodeTemporaryError(f"{config.method} {config.url} answered {resp.status}",
                                     retry_after=retry_after_s(resp.headers.get("retry-after"), ctx.clock.now()))
        if resp.status >= 400:
            detail = json.dumps(body)[:300] if not isinstance(body, str) else body[:300]
            raise NodeConfigError(f"{config.method} {config.url} answered {resp.status}: {detail}", pointer="/url")
    return {"output": {"status": resp.status, "headers": resp.headers, "body": body}}
