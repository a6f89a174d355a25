"""POST /api/credentials/{id}/test on oauth2 credentials, against the Authlib server: a refresh for a
connected authorization-code credential, a token request for client credentials, a clear refusal."""

from __future__ import annotations

import pytest

from backend.oauth import connect
from tests.backend.oauth.conftest import browser_connect, create_oauth_credential


@pytest.fixture
def code_client(authz, settings):
    return authz.add_client(redirect_uris=(connect.redirect_uri(settings),))


def leaked(c, authz, client) -> list[str]:
    secrets = [s for t in authz.tokens if t.client_id == client.client_id
               for s in (t.access_token, t.refresh_token) if s] + [client.client_secret]
    return [s for s in secrets for text in c.seen if s in text]


async def test_a_connected_credential_is_tested_by_a_refresh(browser, authz, tenant_a, code_client):
    """The test refreshes the token (ok true) and stores the new one: the old refresh token is spent."""
    async with browser(tenant_a.editor) as c:
        cid = await create_oauth_credential(c, authz, code_client)
        not_yet = (await c.post(f"/api/credentials/{cid}/test", json={})).json()
        assert not_yet == {"ok": False, "message": "not connected yet: connect the credential in the browser first"}
        assert (await browser_connect(c, authz, cid)).status_code == 200
        asked = len(authz.token_requests)
        out = (await c.post(f"/api/credentials/{cid}/test", json={})).json()
        assert out == {"ok": True, "message": "the token endpoint refreshed the access token"}
        assert [f["grant_type"] for f in authz.token_requests[asked:]] == ["refresh_token"]
        again = (await c.post(f"/api/credentials/{cid}/test", json={})).json()   # uses the rotated token
        assert again["ok"] is True
        assert not leaked(c, authz, code_client)


async def test_a_revoked_refresh_token_fails_the_test_with_the_reason(browser, authz, tenant_a, code_client):
    """With the refresh token revoked the test answers ok false, saying to reconnect, without a secret."""
    async with browser(tenant_a.editor) as c:
        cid = await create_oauth_credential(c, authz, code_client)
        assert (await browser_connect(c, authz, cid)).status_code == 200
        authz.revoke_refresh_tokens()
        out = (await c.post(f"/api/credentials/{cid}/test", json={})).json()
        assert out == {"ok": False, "message": "the refresh token was refused (invalid_grant): reconnect the credential"}
        assert not leaked(c, authz, code_client)


async def test_client_credentials_are_tested_by_a_token_request(browser, authz, tenant_a):
    """A client-credentials credential gets a token (ok true, then connected); a wrong secret is ok false."""
    client = authz.add_client(grant_types=("client_credentials",))
    async with browser(tenant_a.editor) as c:
        cid = await create_oauth_credential(c, authz, client, grant_type="client_credentials")
        out = (await c.post(f"/api/credentials/{cid}/test", json={})).json()
        assert out == {"ok": True, "message": "the token endpoint issued an access token for the client credentials"}
        assert (await c.get(f"/api/credentials/{cid}")).json()["fields"]["connected"] is True
        wrong = await create_oauth_credential(c, authz, client, grant_type="client_credentials",
                                              client_secret="not-it-0042")
        out = (await c.post(f"/api/credentials/{wrong}/test", json={})).json()
        assert out["ok"] is False and "invalid_client" in out["message"] and "not-it-0042" not in out["message"]
        assert not leaked(c, authz, client)
