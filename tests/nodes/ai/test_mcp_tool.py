"""ai.mcp_tool against a real MCP server on loopback (the official SDK's MCPServer over streamable HTTP):
results, tool errors, unknown tools, credentials, the operator's allow-list and the address check."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from nodes.ai import mcp_tool
from nodes.credentials import MemoryCredentials, ResolvedCredential
from nodes.net import BlockedAddressError
from nodes.sdk import NodeConfigError, NodeTemporaryError
from tests.nodes.ai.mcp_server import TOKEN, mcp_server


@pytest.fixture
async def base(monkeypatch) -> AsyncIterator[str]:
    """The test MCP server, allowed by the operator: its base URL."""
    async with mcp_server() as url:
        monkeypatch.setenv("MAILY_MCP_ALLOWED_URLS", f"{url}/")
        monkeypatch.setenv("MAILY_HTTP_ALLOWED_HOSTS", "127.0.0.1")
        yield url


def config(url: str, tool: str = "add", **extra) -> mcp_tool.Config:
    return mcp_tool.Config(server_url=url, tool=tool, **{"arguments": {"a": 2, "b": 3}, **extra})


def with_creds(make_ctx, *creds: ResolvedCredential):
    return make_ctx(services={"credentials": MemoryCredentials({c.id: c for c in creds})})


class TestCalls:
    async def test_a_tool_result_is_the_output(self, base, make_ctx):
        """The tool's content and structured result come out on `output`, with is_error false."""
        out = (await mcp_tool.execute(make_ctx(), config(f"{base}/mcp"), {}))["output"]
        assert out["content"] == [{"type": "text", "text": "5"}]
        assert out["structured"] == {"result": 5} and out["is_error"] is False

    async def test_a_tool_error_fails_the_node_with_its_message(self, base, make_ctx):
        """A result with isError fails the node (not retried) carrying the tool's message."""
        with pytest.raises(NodeConfigError, match="out of stock") as info:
            await mcp_tool.execute(make_ctx(), config(f"{base}/mcp", "reserve", arguments={"item": "lamp"}), {})
        assert info.value.pointer == "/tool" and not isinstance(info.value, NodeTemporaryError)

    async def test_an_unknown_tool_is_a_config_error_naming_tool(self, base, make_ctx):
        """A tool the server does not list is a permanent error at /tool that names what it has."""
        with pytest.raises(NodeConfigError, match="has no tool 'nope' \\(it has: add, blob, reserve\\)") as info:
            await mcp_tool.execute(make_ctx(), config(f"{base}/mcp", "nope"), {})
        assert info.value.pointer == "/tool"

    async def test_arguments_the_tool_refuses_fail_the_node(self, base, make_ctx):
        """Arguments outside the tool's schema fail the node, not retried."""
        with pytest.raises(NodeConfigError, match="Input should be a valid integer"):
            await mcp_tool.execute(make_ctx(), config(f"{base}/mcp", arguments={"a": "two", "b": 3}), {})


class TestCredentials:
    @pytest.mark.parametrize("credential", [
        ResolvedCredential("c", "bearer", {"token": TOKEN}, ("token",)),
        ResolvedCredential("c", "header", {"name": "X-Api-Key", "value": TOKEN}, ("value",)),
    ])
    async def test_a_bearer_or_header_credential_lets_the_call_in(self, base, make_ctx, credential):
        """The vault's bearer token or API-key header reaches the server, and the redactor knows it."""
        ctx = with_creds(make_ctx, credential)
        out = (await mcp_tool.execute(ctx, config(f"{base}/secure/mcp", credential="c"), {}))["output"]
        assert out["structured"] == {"result": 5}
        assert ctx.redactor.scrub(f"Bearer {TOKEN}") == "Bearer [redacted]"

    async def test_a_refused_credential_is_a_config_error_at_credential(self, base, make_ctx):
        """A 401 from the server fails the node at /credential, not retried."""
        ctx = with_creds(make_ctx, ResolvedCredential("c", "bearer", {"token": "wrong-token"}, ("token",)))
        with pytest.raises(NodeConfigError, match="refused the credentials \\(401\\)") as info:
            await mcp_tool.execute(ctx, config(f"{base}/secure/mcp", credential="c"), {})
        assert info.value.pointer == "/credential"


class TestFailures:
    async def test_a_5xx_is_temporary(self, base, make_ctx):
        """A server answering 503 is a temporary error (retried)."""
        with pytest.raises(NodeTemporaryError, match="answered 503"):
            await mcp_tool.execute(make_ctx(), config(f"{base}/down/mcp"), {})

    async def test_a_server_that_is_not_there_is_temporary(self, monkeypatch, make_ctx):
        """A refused connection is a temporary error."""
        async with mcp_server() as url:
            pass   # stopped: nothing listens on its port any more
        monkeypatch.setenv("MAILY_MCP_ALLOWED_URLS", url)
        monkeypatch.setenv("MAILY_HTTP_ALLOWED_HOSTS", "127.0.0.1")
        with pytest.raises(NodeTemporaryError, match="could not be reached"):
            await mcp_tool.execute(make_ctx(), config(f"{url}/mcp"), {})


    async def test_an_answer_over_the_size_limit_is_refused(self, base, make_ctx, monkeypatch):
        """An answer longer than MAILY_HTTP_MAX_RESPONSE_BYTES fails the node instead of being read."""
        monkeypatch.setenv("MAILY_HTTP_MAX_RESPONSE_BYTES", "4000")
        with pytest.raises(NodeConfigError, match="answered more than 4000 bytes"):
            await mcp_tool.execute(make_ctx(), config(f"{base}/mcp", "blob", arguments={"size": 10_000}), {})


class TestGuards:
    async def test_a_url_off_the_allow_list_is_refused(self, base, make_ctx, monkeypatch):
        """A server outside MAILY_MCP_ALLOWED_URLS is refused at /server_url before any request."""
        monkeypatch.setenv("MAILY_MCP_ALLOWED_URLS", f"{base}/secure/")
        with pytest.raises(NodeConfigError, match="not on the allow-list") as info:
            await mcp_tool.execute(make_ctx(), config(f"{base}/mcp"), {})
        assert info.value.pointer == "/server_url"

    async def test_no_allow_list_allows_no_server(self, base, make_ctx, monkeypatch):
        """Without MAILY_MCP_ALLOWED_URLS no MCP server may be called."""
        monkeypatch.delenv("MAILY_MCP_ALLOWED_URLS")
        with pytest.raises(NodeConfigError, match="operator sets MAILY_MCP_ALLOWED_URLS"):
            await mcp_tool.execute(make_ctx(), config(f"{base}/mcp"), {})

    async def test_loopback_is_refused_without_the_hosts_allowance(self, base, make_ctx, monkeypatch):
        """An allow-listed URL on a private address is still refused by the address check."""
        monkeypatch.delenv("MAILY_HTTP_ALLOWED_HOSTS")
        with pytest.raises(BlockedAddressError, match="private or reserved") as info:
            await mcp_tool.execute(make_ctx(), config(f"{base}/mcp"), {})
        assert info.value.pointer == "/server_url"

    @pytest.mark.parametrize("url, allowed", [
        ("https://tools.example.com/mcp", True),
        ("https://tools.example.com/mcp/v2", True),
        ("https://tools.example.com/mcpx", False),
        ("https://tools.example.com.evil.test/mcp", False),
        ("http://tools.example.com/mcp", False),
        ("https://tools.example.com:8443/mcp", False),
        ("not a url", False),
    ])
    def test_prefixes_match_by_origin_and_whole_path_segments(self, url, allowed):
        """A prefix allows its own origin and paths under it, not look-alike hosts or paths."""
        assert mcp_tool.url_allowed(url, ["https://tools.example.com/mcp"]) is allowed
