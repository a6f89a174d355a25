"""The OAuth2 connect flow through the API: POST /api/credentials/{id}/oauth/start, the Authlib
server's approval, GET /oauth/callback; the state is single use and bound to the session."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from backend.oauth import connect
from tests.backend.conftest import assert_problem
from tests.backend.oauth.conftest import browser_connect, create_oauth_credential


def page_result(r: httpx.Response) -> dict:
    """The outcome the callback page posts to the editor (its JSON data block)."""
    match = re.search(r'<script type="application/json" id="result">(.*?)</script>', r.text, re.S)
    assert match, r.text
    return json.loads(match.group(1))


@pytest.fixture
def code_client(authz, settings):
    return authz.add_client(redirect_uris=(connect.redirect_uri(settings),))


async def test_connecting_stores_tokens_and_tells_the_opener(browser, authz, tenant_a, code_client):
    """The callback exchanges the code (PKCE) and answers a page posting {type, credential_id, ok} to
    location.origin; the credential then reads connected with an expiry, and no token is shown."""
    async with browser(tenant_a.editor) as c:
        cid = await create_oauth_credential(c, authz, code_client)
        page = await browser_connect(c, authz, cid)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page_result(page) == {"credential_id": cid, "ok": True, "error": None}
        assert "window.opener.postMessage(message, location.origin)" in page.text
        nonce = re.search(r"script-src 'nonce-([^']+)'", page.headers["content-security-policy"]).group(1)
        assert f'<script nonce="{nonce}">' in page.text
        assert authz.token_requests[-1]["code_verifier"]
        got = (await c.get(f"/api/credentials/{cid}")).json()
        assert got["fields"]["connected"] is True and got["fields"]["expires_at"] > 0
        issued = [t for t in authz.tokens if t.client_id == code_client.client_id]
        assert issued and all(t.refresh_token not in text and t.access_token not in text
                              for t in issued for text in c.seen)


async def test_the_state_is_single_use(browser, authz, tenant_a, code_client):
    """Replaying the callback URL (same state) is refused, and the stored tokens stay those of the first use."""
    async with browser(tenant_a.editor) as c:
        cid = await create_oauth_credential(c, authz, code_client)
        r = await c.post(f"/api/credentials/{cid}/oauth/start", json={})
        back = httpx.get(r.json()["authorize_url"], follow_redirects=False, trust_env=False)
        callback = back.headers["location"].split("/oauth/callback", 1)[1]
        assert page_result(await c.get(f"/oauth/callback{callback}"))["ok"] is True
        asked = len(authz.token_requests)
        again = await c.get(f"/oauth/callback{callback}")
        assert again.status_code == 400
        assert "already used" in page_result(again)["error"]
        assert len(authz.token_requests) == asked   # refused before any exchange


async def test_another_browser_session_cannot_finish_the_flow(browser, authz, tenant_a, code_client):
    """A callback arriving in another session of the same user (or another user) is refused."""
    async with browser(tenant_a.editor) as c, browser(tenant_a.editor) as other, \
            browser(tenant_a.owner) as owner:
        cid = await create_oauth_credential(c, authz, code_client)
        for intruder in (other, owner):
            r = await c.post(f"/api/credentials/{cid}/oauth/start", json={})
            back = httpx.get(r.json()["authorize_url"], follow_redirects=False, trust_env=False)
            result = page_result(await intruder.get("/oauth/callback?" + back.headers["location"].split("?", 1)[1]))
            assert result["ok"] is False and "another user or browser session" in result["error"]
        assert (await c.get(f"/api/credentials/{cid}")).json()["fields"]["connected"] is False


async def test_an_expired_state_is_refused(browser, authz, tenant_a, code_client, monkeypatch):
    """A callback later than CONNECT_TTL_S after the start is refused."""
    async with browser(tenant_a.editor) as c:
        cid = await create_oauth_credential(c, authz, code_client)
        monkeypatch.setattr(connect, "CONNECT_TTL_S", -1)
        r = await c.post(f"/api/credentials/{cid}/oauth/start", json={})
        back = httpx.get(r.json()["authorize_url"], follow_redirects=False, trust_env=False)
        result = page_result(await c.get("/oauth/callback?" + back.headers["location"].split("?", 1)[1]))
        assert result == {"credential_id": cid, "ok": False, "error": "this connect attempt expired: connect again from the editor"}


async def test_a_denied_consent_and_a_forged_state_are_pages_not_errors(browser, live, authz, tenant_a, code_client):
    """error=access_denied from the server and a made-up state each answer the page with ok false."""
    async with browser(tenant_a.editor) as c:
        cid = await create_oauth_credential(c, authz, code_client)
        r = await c.post(f"/api/credentials/{cid}/oauth/start", json={})
        state = httpx.URL(r.json()["authorize_url"]).params["state"]
        denied = page_result(await c.get("/oauth/callback", params={"state": state, "error": "access_denied"}))
        assert denied["ok"] is False and "did not grant access (access_denied)" in denied["error"]
        forged = await c.get("/oauth/callback", params={"state": f"{cid}.made-up", "code": "x"})
        assert forged.status_code == 400 and page_result(forged)["ok"] is False
    async with httpx.AsyncClient(base_url=f"http://{live}") as anonymous_browser:
        anonymous = await anonymous_browser.get("/oauth/callback", params={"state": state, "code": "x"})
    assert "sign in" in page_result(anonymous)["error"]


async def test_start_is_for_editors_in_a_browser_of_the_workspace(browser, live, authz, tenant_a, tenant_b, code_client):
    """Viewers get 403, an API token 403 (no browser session), another workspace's id 404, a
    client-credentials credential 409."""
    async with browser(tenant_a.editor) as c, browser(tenant_a.viewer) as viewer, \
            browser(tenant_b.editor) as stranger:
        cid = await create_oauth_credential(c, authz, code_client)
        assert_problem(await viewer.post(f"/api/credentials/{cid}/oauth/start", json={}), 403)
        async with httpx.AsyncClient(base_url=f"http://{live}", headers=tenant_a.editor.headers) as api:
            assert_problem(await api.post(f"/api/credentials/{cid}/oauth/start"), 403)
        assert_problem(await stranger.post(f"/api/credentials/{cid}/oauth/start", json={}), 404)
        cc = await create_oauth_credential(c, authz, code_client, grant_type="client_credentials")
        assert_problem(await c.post(f"/api/credentials/{cc}/oauth/start", json={}), 409)


async def test_a_refused_code_exchange_is_shown_on_the_page(browser, authz, tenant_a, code_client):
    """When the token endpoint refuses the code (wrong client secret), the page says why, without the secret."""
    async with browser(tenant_a.editor) as c:
        cid = await create_oauth_credential(c, authz, code_client, client_secret="wrong-secret-0001")
        page = await browser_connect(c, authz, cid)
        result = page_result(page)
        assert result["ok"] is False and "invalid_client" in result["error"]
        assert "wrong-secret-0001" not in page.text
