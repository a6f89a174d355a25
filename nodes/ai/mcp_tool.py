"""ai.mcp_tool: calls one tool of an MCP server (streamable HTTP) with the official MCP client.

The server URL must start with one of the operator's MAILY_MCP_ALLOWED_URLS prefixes (none set:
no server is allowed) and pass the private-address check of nodes/net.py, on every request the
SDK sends (the guarded transport; MAILY_HTTP_ALLOWED_HOSTS lets named internal hosts through)."""

from __future__ import annotations

import os
from typing import Any

import httpx2
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from pydantic import Field

from nodes.net import BlockedAddressError, allowed_hosts_from_env, check_url, guarded_transport
from nodes.sdk import (NodeConfig, NodeConfigError, NodeContext, NodeError, NodeSpec, NodeTemporaryError, Port,
                       credential_field, resolve_credential)

AUTH_TYPES = ("bearer", "header")

SPEC = NodeSpec(
    type="ai.mcp_tool",
    version=1,
    title="MCP tool",
    category="ai",
    icon="plug",
    description="Calls a tool of an MCP server (streamable HTTP) and outputs {content, structured, is_error}. "
                "The server must be on the operator's allow-list (MAILY_MCP_ALLOWED_URLS).",
    inputs=(Port("input", "any", "Available to expressions as `input`"),),
    outputs=(Port("output", "object", "{content, structured, is_error}: the tool's result"),),
    side_effects=True,
    side_effect_kind="unkeyed",   # a tool may act on each call
    default_retries=2,
    default_timeout_s=60.0,
)


class Config(NodeConfig):
    server_url: str = Field(min_length=1, max_length=2048, description="The MCP endpoint, e.g. https://tools.example.com/mcp")
    tool: str = Field(min_length=1, max_length=128, description="The tool's name, as the server lists it")
    arguments: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments (expressions allowed)")
    credential: str | None = credential_field(
        *AUTH_TYPES, description="Authentication from the workspace's credentials: a bearer token or an API-key header")


def allowed_prefixes() -> list[str]:
    return [p.strip() for p in os.environ.get("MAILY_MCP_ALLOWED_URLS", "").split(",") if p.strip()]


def url_allowed(url: str, prefixes: list[str]) -> bool:
    """Whether url starts with a prefix: same scheme, host and port, and a path under the prefix's
    (segment by segment: https://a.example/mcp allows /mcp and /mcp/x, not /mcpx nor a.example.evil)."""
    try:
        u = httpx2.URL(url)
    except (httpx2.InvalidURL, TypeError):
        return False
    for prefix in prefixes:
        try:
            p = httpx2.URL(prefix)
        except (httpx2.InvalidURL, TypeError):
            continue
        if (u.scheme, u.host.lower(), u.port) != (p.scheme, p.host.lower(), p.port):
            continue
        base = p.path.rstrip("/")
        if not base or u.path == base or u.path.startswith(base + "/"):
            return True
    return False


async def _check(config: Config) -> None:
    prefixes = allowed_prefixes()
    if not url_allowed(config.server_url, prefixes):
        allowed = ", ".join(prefixes) if prefixes else "none: the operator sets MAILY_MCP_ALLOWED_URLS"
        raise NodeConfigError(f"MCP server {config.server_url} is not on the allow-list ({allowed})",
                              pointer="/server_url")
    try:
        await check_url(config.server_url, allowed_hosts_from_env())
    except BlockedAddressError as exc:
        raise BlockedAddressError(exc.message, pointer="/server_url") from None


async def _headers(ctx: NodeContext, config: Config) -> dict[str, str]:
    if not config.credential:
        return {}
    cred = await resolve_credential(ctx, config.credential, AUTH_TYPES)
    if cred.type == "bearer":
        return {"Authorization": f"Bearer {cred.fields['token']}"}
    return {str(cred.fields["name"]): str(cred.fields["value"])}


async def _all_tools(session: ClientSession) -> list[str]:
    names, cursor = [], None
    for _page in range(100):
        page = await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor) if cursor else None)
        names += [t.name for t in page.tools]
        cursor = page.next_cursor
        if not cursor:
            break
    return names


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside the SDK's task groups' exception groups."""
    while isinstance(exc, BaseExceptionGroup):
        exc = next((e for e in exc.exceptions if not isinstance(e, BaseExceptionGroup)), exc.exceptions[0])
    return exc


def _failure(exc: BaseException, config: Config, statuses: list[int], stage: str) -> Exception:
    """The node error a failed exchange is: temporary for connection failures, 5xx and 429."""
    url = config.server_url
    if isinstance(exc, NodeError):
        return exc
    worst = max(statuses, default=0)
    if isinstance(exc, (httpx2.TransportError, TimeoutError, ConnectionError)) or worst >= 500 or 429 in statuses:
        reason = f"answered {worst}" if worst >= 500 or 429 in statuses else f"could not be reached ({type(exc).__name__})"
        return NodeTemporaryError(f"MCP server {url} {reason} during {stage}")
    if worst in (401, 403):
        return NodeConfigError(f"MCP server {url} refused the credentials ({worst})", pointer="/credential")
    if worst >= 400:
        return NodeConfigError(f"MCP server {url} answered {worst} during {stage}", pointer="/server_url")
    if isinstance(exc, MCPError):
        pointer = "/arguments" if stage == "tools/call" else "/server_url"
        return NodeConfigError(f"MCP server {url} refused {stage}: {exc.message}", pointer=pointer)
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    await _check(config)
    statuses: list[int] = []

    cap = int(os.environ.get("MAILY_HTTP_MAX_RESPONSE_BYTES", 10 * 1024 * 1024))

    async def note(response: httpx2.Response) -> None:
        statuses.append(response.status_code)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:   # refused before the SDK reads it
            raise NodeConfigError(f"MCP server {config.server_url} answered more than {cap} bytes", pointer="/server_url")

    timeout = config.timeout_s or SPEC.default_timeout_s
    http = httpx2.AsyncClient(transport=guarded_transport(allowed_hosts_from_env(), httpx2), trust_env=False,
                              headers=await _headers(ctx, config), timeout=timeout, event_hooks={"response": [note]})
    stage, result = "initialize", None
    try:
        async with http, streamable_http_client(config.server_url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                stage = "tools/list"
                names = await _all_tools(session)
                if config.tool not in names:
                    raise NodeConfigError(f"MCP server {config.server_url} has no tool {config.tool!r} (it has: "
                                          f"{', '.join(names[:20]) or 'none'})", pointer="/tool")
                stage = "tools/call"
                result = await session.call_tool(config.tool, config.arguments)
    except BaseException as exc:   # the SDK's task groups wrap what failed in exception groups
        leaf = _leaf(exc)
        if not isinstance(leaf, Exception):   # cancelled (the node's time limit, a cancelled run): as it is
            raise
        raise _failure(leaf, config, statuses, stage) from None
    content = [block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in result.content]
    if result.is_error:
        text = " ".join(b.get("text", "") for b in content if b.get("type") == "text").strip() or "no message"
        raise NodeConfigError(f"tool {config.tool!r} answered an error: {text[:2000]}", pointer="/tool")
    return {"output": {"content": content, "structured": result.structured_content, "is_error": False}}
