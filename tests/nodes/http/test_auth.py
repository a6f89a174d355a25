"""What http.request and http.graphql share (nodes/http/auth.py): Retry-After parsing and the client choice."""

from __future__ import annotations

from datetime import timedelta

from nodes.http.auth import http_client, retry_after
from nodes.net import SafeHttpClient
from tests.nodes.conftest import FakeClock


def test_retry_after_reads_seconds_and_http_dates(make_ctx):
    """Delta seconds and an HTTP date both give seconds to wait; a past date gives 0, garbage None."""
    ctx = make_ctx(clock=FakeClock())
    later = (ctx.clock.now() + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after("12", ctx) == 12.0 and retry_after(later, ctx) == 90.0
    assert retry_after("Mon, 01 Jan 2001 00:00:00 GMT", ctx) == 0.0 and retry_after("soon", ctx) is None


async def test_the_injected_client_is_used_and_an_own_one_gets_the_timeout(make_ctx, loopback_client):
    """ctx.http is handed out as is; without it a client from the settings carries the node's timeout."""
    async with http_client(make_ctx(http=loopback_client), 3) as client:
        assert client is loopback_client
    async with http_client(make_ctx(), 3) as client:
        assert isinstance(client, SafeHttpClient) and client.timeout_s == 3
