"""CSRF defence: cookie-authenticated unsafe requests and sign-in from a foreign Origin or with a form body are refused."""

from __future__ import annotations

from tests.backend.conftest import assert_problem


async def _login(client, tenant):
    r = await client.post("/api/auth/login", json={"email": tenant.owner.email, "password": tenant.owner.password})
    assert r.status_code == 200, r.text


async def test_cookie_text_plain_post_from_foreign_origin_is_403(client, tenant_a):
    """A cookie-authenticated text/plain POST from another site is refused with 403 problem+json."""
    await _login(client, tenant_a)
    r = await client.post("/api/auth/tokens", content='{"name": "evil"}',
                          headers={"content-type": "text/plain", "origin": "https://evil.test"})
    assert_problem(r, 403)
    listed = (await client.get("/api/auth/tokens")).json()
    assert "evil" not in str(listed)


async def test_cookie_json_post_from_foreign_origin_is_403(client, tenant_a):
    """Even a JSON body is refused when the Origin is foreign."""
    await _login(client, tenant_a)
    r = await client.post("/api/auth/tokens", json={"name": "evil"}, headers={"origin": "https://evil.test"})
    assert_problem(r, 403)


async def test_cookie_text_plain_without_csrf_token_is_403_and_with_token_passes(client, tenant_a):
    """A same-origin non-JSON body needs the double-submit token echoed in X-CSRF-Token."""
    await _login(client, tenant_a)
    r = await client.post("/api/auth/logout", content="x", headers={"content-type": "text/plain"})
    assert_problem(r, 403)
    client.cookies.set("maily_csrf", "abc123")
    r = await client.post("/api/auth/logout", content="x",
                          headers={"content-type": "text/plain", "x-csrf-token": "abc123"})
    assert r.status_code == 204, r.text


async def test_login_from_foreign_origin_is_403(client, tenant_a):
    """Login CSRF: a sign-in posted from another site is refused."""
    r = await client.post("/api/auth/login", content=f"email={tenant_a.owner.email}",
                          headers={"content-type": "application/x-www-form-urlencoded", "origin": "https://evil.test"})
    assert_problem(r, 403)


async def test_same_origin_json_and_bearer_requests_pass(client, tenant_a):
    """The editor's same-origin JSON requests and bearer-token requests are not affected."""
    await _login(client, tenant_a)
    r = await client.post("/api/auth/tokens", json={"name": "ok"}, headers={"origin": "http://testserver.local"})
    assert r.status_code == 201, r.text
    client.cookies.clear()
    r = await client.post("/api/auth/tokens", content='{"name": "ci"}',
                          headers={**tenant_a.owner.headers, "content-type": "text/plain", "origin": "https://evil.test"})
    assert r.status_code != 403


async def test_session_cookie_is_secure_when_public_url_is_https(settings, tenant_a):
    """Behind an https public address or over https the session and CSRF cookies carry the Secure flag; over plain http they do not."""
    from litestar.testing import AsyncTestClient

    from backend.app import create_app

    cases = (("https://maily.example", "http://testserver.local", True),
             ("http://localhost:8000", "http://testserver.local", False),
             ("http://localhost:8000", "https://testserver.local", True))   # the request itself came over https
    for public_url, base_url, secure in cases:
        app = create_app(settings.model_copy(update={"public_url": public_url}))
        async with AsyncTestClient(app=app, base_url=base_url) as c:
            r = await c.post("/api/auth/login", json={"email": tenant_a.owner.email, "password": tenant_a.owner.password})
        cookies = r.headers.get_list("set-cookie")
        assert len(cookies) == 2 and all(("secure" in c.lower().split("; ")) is secure for c in cookies), cookies
