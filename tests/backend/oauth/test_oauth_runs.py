"""Workflows whose http.request uses an oauth2 credential, connected through the API, against the
Authlib server's protected endpoint: the token is refreshed before expiry and once on a 401, and a
revoked refresh token fails the run with a clear node error. No token ever reaches a response."""

from __future__ import annotations

import pytest

from backend.oauth import connect
from tests.backend.oauth.conftest import browser_connect, create_oauth_credential
from tests.backend.runs.test_controllers import wait_for_end
from tests.flows.fakes import edge, graph, node


@pytest.fixture
def code_client(authz, settings):
    return authz.add_client(redirect_uris=(connect.redirect_uri(settings),))


async def connected(c, authz, code_client) -> str:
    cid = await create_oauth_credential(c, authz, code_client)
    page = await browser_connect(c, authz, cid)
    assert page.status_code == 200, page.text
    return cid


async def run_api_call(c, authz, credential_id: str) -> dict:
    """Runs trigger -> http.request GET /api/me with the credential; the finished run."""
    doc = graph([node("start", "trigger.manual"),
                 node("call", "http.request", url=authz.url("/api/me"), credential=credential_id)],
                [edge("start", "call")], name="oauth-run")
    r = await c.post("/api/workflows", json={"name": "oauth", "graph": doc})
    assert r.status_code == 201, r.text
    r = await c.post(f"/api/workflows/{r.json()['id']}/runs", json={"input": {}})
    assert r.status_code == 202, r.text
    return await wait_for_end(c, {}, r.json()["id"])


def call_output(run: dict) -> dict:
    return next(n for n in run["nodes"] if n["node_id"] == "call")


def assert_no_token_in(c, authz, client) -> None:
    issued = [t for t in authz.tokens if t.client_id == client.client_id]
    secrets = [s for t in issued for s in (t.access_token, t.refresh_token) if s] + [client.client_secret]
    leaked = [s for s in secrets for text in c.seen if s in text]
    assert issued and not leaked


async def test_a_connected_credential_calls_the_protected_api(browser, authz, tenant_a, code_client):
    """The run sends the connected access token; the API answers as the approving user; no refresh needed."""
    async with browser(tenant_a.editor) as c:
        cid = await connected(c, authz, code_client)
        asked = len(authz.token_requests)
        run = await run_api_call(c, authz, cid)
        assert run["status"] == "succeeded", run
        assert call_output(run)["output"]["output"]["body"]["user"] == "ada"
        assert len(authz.token_requests) == asked
        assert_no_token_in(c, authz, code_client)


async def test_an_expiring_token_is_refreshed_before_the_call(browser, authz, tenant_a, code_client):
    """A token within a minute of expiry (and already refused by the API) is refreshed before the
    request: the API sees only the new token, never a 401."""
    async with browser(tenant_a.editor) as c:
        authz.expires_in = 30   # the connect's token: within a minute of expiry at once
        try:
            cid = await connected(c, authz, code_client)
        finally:
            authz.expires_in = 3600
        authz.expire_access_tokens()
        calls, asked = len(authz.api_calls), len(authz.token_requests)
        run = await run_api_call(c, authz, cid)
        assert run["status"] == "succeeded", run
        assert [status for status, _ in authz.api_calls[calls:]] == [200]
        assert [f["grant_type"] for f in authz.token_requests[asked:]] == ["refresh_token"]
        again = await run_api_call(c, authz, cid)   # the refreshed token (an hour long) was stored and is reused
        assert again["status"] == "succeeded"
        assert [f["grant_type"] for f in authz.token_requests[asked:]] == ["refresh_token"]
        assert_no_token_in(c, authz, code_client)


async def test_a_401_is_refreshed_once_and_retried(browser, authz, tenant_a, code_client):
    """When the API answers 401 to a token that has not expired, the node refreshes once and the retry succeeds."""
    async with browser(tenant_a.editor) as c:
        cid = await connected(c, authz, code_client)
        authz.fail_api_next = 1
        calls, asked = len(authz.api_calls), len(authz.token_requests)
        run = await run_api_call(c, authz, cid)
        assert run["status"] == "succeeded", run
        (first_status, first_token), (second_status, second_token) = authz.api_calls[calls:]
        assert (first_status, second_status) == (401, 200) and first_token != second_token
        assert [f["grant_type"] for f in authz.token_requests[asked:]] == ["refresh_token"]
        assert_no_token_in(c, authz, code_client)


async def test_a_revoked_refresh_token_fails_the_run_with_a_clear_error(browser, authz, tenant_a, code_client):
    """With the refresh token revoked and the access token refused, the run fails on the node with
    the reconnect message, and no token appears in the run."""
    async with browser(tenant_a.editor) as c:
        cid = await connected(c, authz, code_client)
        authz.revoke_refresh_tokens()
        run = await run_api_call(c, authz, cid)
        assert run["status"] == "failed", run
        error = call_output(run)["error"]
        assert "the refresh token was refused (invalid_grant): reconnect the credential" in str(error)
        assert call_output(run)["attempts"] == 1   # the user's to fix: not retried
        assert_no_token_in(c, authz, code_client)
