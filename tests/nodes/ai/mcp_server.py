"""A real MCP server for the ai.mcp_tool tests, built with the official SDK (MCPServer, formerly
FastMCP) and served streamable-http by uvicorn on loopback. Paths: /mcp (open), /secure/mcp (needs
`Authorization: Bearer <TOKEN>` or `X-Api-Key: <TOKEN>`), /down/mcp (always 503)."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from tests.live_server import serving

TOKEN = "mcp-secret-MARKER-9a8b7c"


def build() -> MCPServer:
    server = MCPServer("test-tools")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two integers."""
        return a + b

    @server.tool()
    def blob(size: int) -> str:
        """A result of `size` characters."""
        return "x" * size

    @server.tool()
    def reserve(item: str) -> str:
        """Fails the way a real tool reports a failure."""
        raise ToolError(f"{item} is out of stock")

    return server


def _answer(status: int, body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = json.dumps(body).encode()
    return [{"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]},
            {"type": "http.response.body", "body": raw}]


def gated(mcp_app: Any) -> Any:
    """The SDK's app behind the test paths: a 503 one and one that wants the token."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(("/down/", "/secure/")):
            headers = dict(scope["headers"])
            allowed = (headers.get(b"authorization") == f"Bearer {TOKEN}".encode()
                       or headers.get(b"x-api-key") == TOKEN.encode())
            if scope["path"].startswith("/down/") or not allowed:
                status = 503 if scope["path"].startswith("/down/") else 401
                for message in _answer(status, {"error": status}):
                    await send(message)
                return
            scope = {**scope, "path": "/mcp", "raw_path": b"/mcp"}
        await mcp_app(scope, receive, send)

    return app


@asynccontextmanager
async def mcp_server() -> AsyncIterator[str]:
    """Serves the test tools; yields the base URL (http://127.0.0.1:<port>)."""
    app = build().streamable_http_app(stateless_http=True, json_response=True)
    async with serving(gated(app)) as address:
        yield f"http://{address}"
