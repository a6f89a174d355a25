"""What http.request and http.graphql share (nodes/http/auth.py): the client choice (Retry-After is
nodes.net.retry_after_s, tested in tests/nodes/test_net.py)."""

from __future__ import annotations

from nodes.http.auth import http_client
from nodes.net import SafeHttpClient


async def test_the_injected_client_is_used_and_an_own_one_gets_the_timeout(make_ctx, loopback_client):
    """ctx.http is handed out as is; without it a client from the settings carries the node's timeout."""
    async with http_client(make_ctx(http=loopback_client), 3) as client:
        assert client is loopback_client
    async with http_client(make_ctx(), 3) as client:
        assert isinstance(client, SafeHttpClient) and client.timeout_s == 3
