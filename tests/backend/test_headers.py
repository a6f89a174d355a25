"""Security headers: the editor, the unsubscribe page, the API and its errors carry a CSP that
forbids framing and inline scripts, X-Frame-Options DENY, nosniff and a same-origin referrer
policy; the API docs under /schema get their own CSP that lets their CDN assets load."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app


@pytest.fixture
async def client(settings, tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text('<!doctype html><script type="module" src="/assets/app.js"></script>')
    async with AsyncTestClient(app=create_app(settings, editor_dist=dist)) as c:
        yield c


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def _assert_hardened(r) -> dict[str, list[str]]:
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    return _directives(r.headers["content-security-policy"])


@pytest.mark.parametrize("path", ["/", "/workflows/abc", "/api/email/unsubscribe/not-a-token", "/api/workflows",
                                  "/api/nothing-here", "/api/health"])
async def test_pages_api_and_errors_forbid_framing_and_inline_scripts(client, path):
    """Editor pages, the unsubscribe page, API answers and error answers all carry the strict policy."""
    csp = _assert_hardened(await client.get(path))
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["connect-src"] == ["'self'", "ws://testserver.local", "wss://testserver.local"]


async def test_the_api_docs_get_their_own_policy_that_loads_their_cdn(client):
    """/schema (Scalar) may load its CDN script, but still cannot be framed."""
    r = await client.get("/schema")
    assert r.status_code == 200
    csp = _assert_hardened(r)
    assert "https://cdn.jsdelivr.net" in csp["script-src"] and csp["frame-ancestors"] == ["'none'"]


async def test_a_hostile_host_header_is_not_echoed_into_the_policy(client):
    """A Host header that is not a plain host[:port] leaves the policy with 'self' only."""
    r = await client.get("/", headers={"Host": "evil; script-src *"})
    csp = _assert_hardened(r)
    assert csp["connect-src"] == ["'self'"] and csp["script-src"] == ["'self'"]
