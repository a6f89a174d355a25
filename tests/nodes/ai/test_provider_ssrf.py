"""The AI providers' SDKs connect through the SSRF guard: an allow-listed provider that redirects
to an address outside the allow-list, and a provider name that resolves to a blocked address when
the SDK connects, are both refused before any byte reaches the blocked server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nodes.ai.gateway import make_provider
from nodes.ai.providers.base import ChatRequest, ProviderError
from tests.nodes.ai.fake_providers import FakeProvider

REQUEST = ChatRequest(model="m", system="s", prompt="hello")
PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(307)
        self.send_header("Location", self.server.target + self.path)   # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def blocked():
    """A provider-speaking server on 127.0.0.2: loopback, and on no allow-list here."""
    server = FakeProvider()
    server._server.server_close()
    server._server = type(server._server)(("127.0.0.2", 0), server._server.RequestHandlerClass)
    server._server.fake = server
    server._thread = threading.Thread(target=server._server.serve_forever, daemon=True)
    server._thread.start()
    yield server
    server.stop()


@pytest.fixture
def redirector(blocked):
    """An allow-listed provider (reached as `localhost`) that answers every call with a 307 to `blocked`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    server.target = f"http://127.0.0.2:{blocked._server.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _base(kind: str, root: str) -> str:
    return root + "/v1" if kind == "openai" else root


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_redirect_from_an_allowed_provider_to_a_blocked_address_is_refused(kind, redirector, blocked):
    """The SDK follows the 307 through the guarded transport, which refuses 127.0.0.2 (not allow-listed)."""
    provider = make_provider(kind, "sk-test", _base(kind, redirector), frozenset({"localhost"}))
    try:
        with pytest.raises(ProviderError, match="address refused") as err:
            await provider.complete(REQUEST, timeout_s=5)
    finally:
        await provider.aclose()
    assert not err.value.retryable
    assert blocked.requests == []


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_name_resolving_to_a_blocked_address_at_connect_time_is_refused(kind, fake):
    """A provider URL whose name resolves to loopback when the SDK connects is refused, not fetched."""
    fake.script(answer="secret internal answer")
    root = fake.root.replace("127.0.0.1", "localhost")
    provider = make_provider(kind, "sk-test", _base(kind, root), frozenset())
    try:
        with pytest.raises(ProviderError, match="address refused"):
            await provider.complete(REQUEST, timeout_s=5)
    finally:
        await provider.aclose()
    assert fake.requests == []


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_an_allow_listed_provider_name_is_reached_through_the_guard(kind, fake):
    """The guard lets an allow-listed host through, connecting to its checked address with its name as Host."""
    fake.script(answer="hi")
    port = fake.root.rsplit(":", 1)[1]
    provider = make_provider(kind, "sk-test", _base(kind, f"http://localhost:{port}"), frozenset({"localhost"}))
    try:
        result = await provider.complete(REQUEST, timeout_s=5)
    finally:
        await provider.aclose()
    assert result.text == "hi"
    assert fake.requests[0]["path"] == PATHS[kind] and fake.requests[0]["headers"]["Host"] == f"localhost:{port}"
