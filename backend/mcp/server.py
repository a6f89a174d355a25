"""/mcp: the workspace's MCP server (streamable HTTP, the official SDK's low-level server, stateless).

The SDK's session manager is an ASGI app mounted at /mcp; its task group runs for the app's
lifetime (`mcp_lifespan`, one of the Litestar app's lifespan managers). Before a request reaches
it, `mcp_endpoint` authenticates it with an API token (`Authorization: Bearer mf_...`, nothing
else: no session cookie) and puts the caller on the request's scope, so the tool handlers list
and run the token's workspace's workflows only (backend/mcp/tools.py)."""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import mcp_types as types
from litestar import Litestar, asgi
from litestar.connection import ASGIConnection
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from backend.auth.deps import resolve_principal
from backend.auth.schemas import Principal
from backend.errors import ApiError, PROBLEM_BASE, PROBLEM_JSON
from backend.mcp import tools

log = logging.getLogger("maily.mcp")

_PRINCIPAL = "maily.mcp.principal"


def _principal(ctx: Any) -> Principal:
    request = ctx.request
    principal = request.scope.get(_PRINCIPAL) if request is not None else None
    if principal is None:   # never: mcp_endpoint lets no request through without one
        raise RuntimeError("an MCP request reached its handler without an authenticated caller")
    return principal


def build_server(app: Litestar) -> Server[Any]:
    """The low-level MCP server whose tools are the caller's workspace's exposed workflows."""
    state = app.state

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        p = _principal(ctx)
        async with state.db.sessionmaker() as s:
            found = await tools.exposed_tools(s, p.tenant_id)
        return types.ListToolsResult(tools=[
            types.Tool(name=t.name, description=t.description, input_schema=t.input_schema) for t in found])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        p = _principal(ctx)
        try:
            async with state.db.sessionmaker() as s:
                tool = next((t for t in await tools.exposed_tools(s, p.tenant_id) if t.name == params.name), None)
                if tool is None:
                    raise tools.ToolFailed(f"Unknown tool: {params.name}")
                run_id = await tools.start(state, s, p, tool, dict(params.arguments or {}))
            try:
                output = await tools.outcome(state.bus, run_id, state.settings.mcp_tool_timeout_s)
            finally:   # the answer follows the run's record: GET /api/runs/{id} then says what the tool said
                await state.recorder.flush()
        except tools.ToolFailed as exc:
            return types.CallToolResult(content=[types.TextContent(type="text", text=str(exc))], is_error=True)
        except ApiError as exc:   # the graph cannot run (422), the database is overloaded (503)...
            return types.CallToolResult(content=[types.TextContent(type="text", text=exc.detail)], is_error=True)
        return types.CallToolResult(content=[types.TextContent(type="text", text=tools.result_text(output))],
                                    structured_content=output if isinstance(output, dict) else {"result": output})

    return Server("maily-flow", version="1", instructions="Tools are this workspace's published workflows.",
                  on_list_tools=list_tools, on_call_tool=call_tool)


@asynccontextmanager
async def mcp_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Runs the SDK's session manager (its task group) for as long as the app runs."""
    manager = StreamableHTTPSessionManager(build_server(app), stateless=True, json_response=True)
    async with manager.run():
        app.state.mcp = manager
        try:
            yield
        finally:
            app.state.mcp = None


async def _problem(send: Any, status: int, slug: str, title: str, detail: str,
                   headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}).encode()
    raw = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


@asgi("/mcp", is_mount=True, copy_scope=False, include_in_schema=False)
async def mcp_endpoint(scope: Any, receive: Any, send: Any) -> None:
    """The MCP server: 401 without a valid API token, 403 for a read-only one, else the SDK answers."""
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope, receive=receive)
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():   # API tokens only: no session cookie
        await _problem(send, 401, "unauthorized", "Unauthorized", "send Authorization: Bearer <API token>",
                       {"WWW-Authenticate": "Bearer"})
        return
    try:
        principal = await resolve_principal(connection)
    except ApiError as exc:   # unknown or revoked token (401), read-only token or wrong tenant header (403)
        await _problem(send, exc.status, exc.slug, exc.title, exc.detail,
                       {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)
        return
    manager = getattr(scope["litestar_app"].state, "mcp", None)
    if manager is None:
        await _problem(send, 503, "unavailable", "Service unavailable", "the MCP server is not running")
        return
    scope[_PRINCIPAL] = principal
    await manager.handle_request(scope, receive, send)
