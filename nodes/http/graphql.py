"""http.graphql: sends a GraphQL query or mutation (GraphQL over HTTP, a JSON POST) and outputs {data, errors}."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from nodes.credentials import HTTP_AUTH_TYPES
from nodes.http.auth import http_client, send
from nodes.net import retry_after_s
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, NodeTemporaryError, Port, credential_field

SPEC = NodeSpec(
    type="http.graphql",
    version=1,
    title="GraphQL request",
    category="http",
    icon="globe",
    description="Sends a GraphQL query or mutation and outputs {data, errors}. Errors with no data fail the node; "
                "429 and 5xx answers are retried; private addresses are refused unless the operator allows them.",
    inputs=(Port("input", "any", "Available to expressions as `input`"),),
    outputs=(Port("output", "object", "{data, errors}"),),
    side_effects=True,
    side_effect_kind="unkeyed",   # a mutation may act on each request
    default_retries=2,
)

_ACCEPT = "application/graphql-response+json, application/json;q=0.9"


class Config(NodeConfig):
    url: str = Field(min_length=1, max_length=8192, description="The GraphQL endpoint, e.g. https://api.example.com/graphql")
    query: str = Field(min_length=1, max_length=100_000, description="The GraphQL document")
    variables: dict[str, Any] = Field(default_factory=dict, description="Variables (values may be expressions)")
    operation_name: str = Field(default="", max_length=200, description="Which operation of the document to run")
    headers: dict[str, Any] = Field(default_factory=dict, description="More request headers (values sent as text)")
    credential: str | None = credential_field(
        *HTTP_AUTH_TYPES, description="Authentication from the workspace's credentials, as for http.request")


def _message(errors: Any) -> str:
    """The first GraphQL error's message (and how many more there are)."""
    if not isinstance(errors, list) or not errors:
        return "no message"
    first = errors[0].get("message") if isinstance(errors[0], dict) else errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{str(first)[:500]}{more}"


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and ("data" in doc or "errors" in doc) else None


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"query": config.query, "variables": config.variables}
    if config.operation_name:
        payload["operationName"] = config.operation_name
    headers = {k: str(v) for k, v in config.headers.items() if v is not None}
    headers["Accept"] = _ACCEPT
    async with http_client(ctx, config.timeout_s) as client:
        resp = await send(ctx, client, config.credential, "POST", config.url, headers, {}, json=payload)
    doc = _parse(resp.body_bytes)
    if resp.status == 429 or resp.status >= 500:
        raise NodeTemporaryError(f"GraphQL endpoint {config.url} answered {resp.status}",
                                 retry_after=retry_after_s(resp.headers.get("retry-after"), ctx.clock.now()))
    if resp.status >= 400:
        detail = _message(doc["errors"]) if doc and doc.get("errors") else resp.text()[:300]
        pointer = "/credential" if resp.status in (401, 403) else "/query" if doc else "/url"
        raise NodeConfigError(f"GraphQL endpoint {config.url} answered {resp.status}: {detail}", pointer=pointer)
    if doc is None:
        raise NodeConfigError(f"{config.url} did not answer a GraphQL response (status {resp.status}, "
                              f"{resp.headers.get('content-type', 'no content type')})", pointer="/url")
    errors = doc.get("errors") or []
    if doc.get("data") is None and errors:
        raise NodeConfigError(f"GraphQL error: {_message(errors)}", pointer="/query")
    return {"output": {"data": doc.get("data"), "errors": errors}}
