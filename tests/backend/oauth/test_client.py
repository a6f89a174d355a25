"""OAuthClient against a real Authlib authorization server on loopback (tests/oauth_server.py)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from backend.oauth.client import OAuthClient, OAuthError, OAuthUnavailable
from nodes.net import SafeHttpClient
from tests.live_server import free_port
from tests.backend.oauth.conftest import REDIRECT_URI, approve, code_fields, connect


class Clock:
    """A clock the test moves forward, so expiry needs no waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def api_status(http: SafeHttpClient, authz, access_token: str) -> int:
    resp = await http.request("GET", authz.url("/api/me"), headers={"Authorization": f"Bearer {access_token}"})
    return resp.status


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def oauth(http: SafeHttpClient, clock: Clock) -> OAuthClient:
    return OAuthClient(http, clock=clock)


@pytest.fixture
def code_client(authz):
    return authz.add_client(redirect_uris=(REDIRECT_URI,))


class TestAuthorizationCode:
    async def test_connect_with_pkce_gets_tokens_the_api_accepts(self, authz, oauth, http, code_client, clock):
        """The authorize URL carries an S256 challenge of the verifier, and exchanging the code
        (with that verifier) gives an access token the protected API accepts and a refresh token."""
        fields = code_fields(authz, code_client)
        url, verifier = oauth.authorization_url(fields, REDIRECT_URI, "st-42")
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["code_challenge_method"] == "S256"
        assert query["code_challenge"] == create_s256_code_challenge(verifier)
        assert (query["state"], query["client_id"], query["redirect_uri"]) == ("st-42", code_client.client_id, REDIRECT_URI)
        back = approve(url)
        assert back["state"] == "st-42"
        tokens = await oauth.exchange_code(fields, back["code"], verifier, REDIRECT_URI)
        assert tokens["connected"] is True and tokens["refresh_token"]
        assert tokens["expires_at"] == clock.now + authz.expires_in
        assert authz.token_requests[-1]["code_verifier"] == verifier
        assert await api_status(http, authz, tokens["access_token"]) == 200

    async def test_a_wrong_code_verifier_is_refused_by_the_server(self, authz, oauth, code_client):
        """The server checks the verifier against the challenge: another verifier gets invalid_grant,
        and the error quotes neither the code, the verifier nor the client secret."""
        fields = code_fields(authz, code_client)
        url, _verifier = oauth.authorization_url(fields, REDIRECT_URI, "s")
        code = approve(url)["code"]
        wrong = "w" * 64
        with pytest.raises(OAuthError) as err:
            await oauth.exchange_code(fields, code, wrong, REDIRECT_URI)
        assert err.value.message.startswith("the authorization code was refused (invalid_grant")
        assert not any(s in err.value.message for s in (code, wrong, code_client.client_secret))

    async def test_a_good_token_is_left_alone(self, authz, oauth, code_client, clock):
        """ensure_fresh returns None and asks the server nothing while the token is valid for more than a minute."""
        tokens = await connect(oauth, code_fields(authz, code_client))
        asked = len(authz.token_requests)
        clock.now = tokens["expires_at"] - 61
        assert await oauth.ensure_fresh({**code_fields(authz, code_client), **tokens}) is None
        assert len(authz.token_requests) == asked

    async def test_an_expiring_token_is_refreshed_and_the_refresh_token_rotated(self, authz, oauth, http, code_client, clock):
        """Within a minute of expiry ensure_fresh refreshes: the new access token works, the server
        rotated the refresh token, and the old refresh token no longer works."""
        fields = code_fields(authz, code_client)
        old = await connect(oauth, fields)
        clock.now = old["expires_at"] - 30
        new = await oauth.ensure_fresh({**fields, **old})
        assert new is not None and new["access_token"] != old["access_token"]
        assert new["refresh_token"] not in (None, old["refresh_token"])
        assert new["expires_at"] == clock.now + authz.expires_in
        assert await api_status(http, authz, new["access_token"]) == 200
        with pytest.raises(OAuthError, match="refresh token was refused"):
            await oauth.refresh({**fields, **old})

    async def test_an_expired_token_is_refreshed(self, authz, oauth, http, code_client, clock):
        """Past its expiry (the API refuses it) the token is replaced by one the API accepts."""
        fields = code_fields(authz, code_client)
        old = await connect(oauth, fields)
        authz.expire_access_tokens()
        clock.now = old["expires_at"] + 1
        assert await api_status(http, authz, old["access_token"]) == 401
        new = await oauth.ensure_fresh({**fields, **old})
        assert new is not None and await api_status(http, authz, new["access_token"]) == 200

    async def test_refresh_is_forced_after_a_401(self, authz, oauth, http, code_client):
        """refresh() gets a new token although the old one has not expired (the API said 401)."""
        fields = code_fields(authz, code_client)
        old = await connect(oauth, fields)
        new = await oauth.refresh({**fields, **old})
        assert new["access_token"] != old["access_token"]
        assert await api_status(http, authz, new["access_token"]) == 200

    async def test_a_revoked_refresh_token_gives_a_clear_error(self, authz, oauth, code_client, clock):
        """When the server revoked the refresh token, the error says to reconnect and holds no secret."""
        fields = code_fields(authz, code_client)
        tokens = await connect(oauth, fields)
        authz.revoke_refresh_tokens()
        clock.now = tokens["expires_at"] + 1
        with pytest.raises(OAuthError) as err:
            await oauth.ensure_fresh({**fields, **tokens})
        assert err.value.message == "the refresh token was refused (invalid_grant): reconnect the credential"
        assert not isinstance(err.value, OAuthUnavailable)

    async def test_a_credential_never_connected_says_so(self, authz, oauth, code_client):
        """Without tokens an authorization-code credential cannot get one on its own."""
        with pytest.raises(OAuthError, match="not connected: connect it first"):
            await oauth.ensure_fresh(code_fields(authz, code_client))

    async def test_a_client_that_takes_its_secret_in_the_body(self, authz, oauth, http):
        """A server that accepts only client_secret_post still works (the client retries that way once)."""
        client = authz.add_client(redirect_uris=(REDIRECT_URI,), auth_method="client_secret_post")
        tokens = await connect(oauth, code_fields(authz, client))
        assert authz.token_requests[-1]["client_secret"] == client.client_secret
        assert await api_status(http, authz, tokens["access_token"]) == 200


class TestClientCredentials:
    async def test_a_token_is_fetched_and_then_reused(self, authz, oauth, http):
        """Without a token ensure_fresh fetches one by client credentials; with a good one it returns None."""
        client = authz.add_client(grant_types=("client_credentials",))
        fields = {"grant_type": "client_credentials", "client_id": client.client_id,
                  "client_secret": client.client_secret, "token_url": authz.url("/token"), "scope": "read"}
        tokens = await oauth.ensure_fresh(fields)
        assert tokens is not None and tokens["refresh_token"] == ""
        assert authz.token_requests[-1]["grant_type"] == "client_credentials"
        assert await api_status(http, authz, tokens["access_token"]) == 200
        assert await oauth.ensure_fresh({**fields, **tokens}) is None

    async def test_a_wrong_secret_is_refused_without_quoting_it(self, authz, oauth):
        """A wrong client secret is invalid_client, and the message tells what to check, not the secret."""
        client = authz.add_client(grant_types=("client_credentials",))
        fields = {"grant_type": "client_credentials", "client_id": client.client_id,
                  "client_secret": "not-the-secret-123", "token_url": authz.url("/token")}
        with pytest.raises(OAuthError) as err:
            await oauth.refresh(fields)
        assert "refused the client (invalid_client" in err.value.message
        assert "check the client id and secret" in err.value.message
        assert "not-the-secret-123" not in err.value.message


class TestTokenEndpoint:
    async def test_a_private_token_url_is_blocked(self, authz, clock):
        """Without 127.0.0.1 allowed the token request is refused before it is sent."""
        client = authz.add_client(grant_types=("client_credentials",))
        fields = {"grant_type": "client_credentials", "client_id": client.client_id,
                  "client_secret": client.client_secret, "token_url": authz.url("/token")}
        asked = len(authz.token_requests)
        async with SafeHttpClient() as strict:
            with pytest.raises(OAuthError, match="token_url: 127.0.0.1 resolves to 127.0.0.1, a private"):
                await OAuthClient(strict, clock=clock).refresh(fields)
        assert len(authz.token_requests) == asked

    async def test_a_server_quoting_the_refresh_token_is_scrubbed(self, authz, oauth, code_client):
        """A token endpoint whose error text repeats the refresh token and client secret gets them redacted."""
        fields = {**code_fields(authz, code_client), "token_url": authz.url("/token/echo"),
                  "access_token": "a" * 20, "refresh_token": "refresh-secret-value-1", "expires_at": 0}
        with pytest.raises(OAuthError) as err:
            await oauth.ensure_fresh(fields)
        assert "[redacted]" in err.value.message
        assert "refresh-secret-value-1" not in err.value.message
        basic = base64.b64encode(f"{code_client.client_id}:{code_client.client_secret}".encode()).decode()
        assert code_client.client_secret not in err.value.message and basic not in err.value.message
        assert "refresh_token" in err.value.message   # the rest of the server's text is quoted

    async def test_an_unreachable_token_endpoint_is_temporary(self, authz, oauth, code_client):
        """Nothing listening at the token URL is OAuthUnavailable (retry later), not a refusal."""
        fields = {**code_fields(authz, code_client), "token_url": f"http://127.0.0.1:{free_port()}/token",
                  "access_token": "a" * 20, "refresh_token": "r" * 20, "expires_at": 0}
        with pytest.raises(OAuthUnavailable, match="could not be reached"):
            await oauth.ensure_fresh(fields)
