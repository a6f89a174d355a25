"""The OAuth2 client of the credential vault: authorization code with PKCE (S256), refresh, and
client credentials, for `oauth2` credentials (docs/credentials.md).

The protocol pieces (the authorize URL, the token request body, the PKCE challenge, client
authentication) are Authlib's. The token requests themselves go through nodes.net.SafeHttpClient,
as every request a workflow causes does: a token_url is user input, so it must not reach
loopback, the private network or cloud metadata unless an operator allowed that host.

`fields` is an oauth2 credential's data (client_id, client_secret, authorize_url, token_url,
scope, audience, access_token, refresh_token, expires_at). The methods that obtain tokens return
the fields to store back: access_token, refresh_token, expires_at and connected. Every error is an
OAuthError whose message says what to do and never contains a secret (a server's error text is
scrubbed of every secret the request carried before it is quoted).
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable
from urllib.parse import parse_qsl

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_qs
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from nodes.credentials import Redactor
from nodes.errors import NodeConfigError, NodeTemporaryError
from nodes.net import SafeHttpClient, SafeResponse

EXPIRY_MARGIN_S = 60.0   # a token this close to its expiry is renewed before it is handed out
_VERIFIER_LENGTH = 64    # RFC 7636: 43 to 128 unreserved characters
_MAX_QUOTED = 200        # of a server's error_description


class OAuthError(Exception):
    """The credential cannot get a token: refused, misconfigured or not connected. Not retried."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OAuthUnavailable(OAuthError):
    """The token endpoint could not be reached or failed (timeout, 429, 5xx): worth retrying."""


def _required(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise OAuthError(f"the credential has no {name}")
    return str(value)


class OAuthClient:
    def __init__(self, http: SafeHttpClient, *, clock: Callable[[], float] = time.time) -> None:
        self.http = http
        self.clock = clock

    def authorization_url(self, fields: dict[str, Any], redirect_uri: str, state: str) -> tuple[str, str]:
        """The URL that asks the user for consent, and the PKCE code verifier to keep for the exchange."""
        verifier = generate_token(_VERIFIER_LENGTH)
        url = prepare_grant_uri(
            _required(fields, "authorize_url"), _required(fields, "client_id"), "code",
            redirect_uri=redirect_uri, scope=fields.get("scope") or None, state=state,
            code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256",
            audience=fields.get("audience") or None)
        return url, verifier

    async def exchange_code(self, fields: dict[str, Any], code: str, code_verifier: str,
                            redirect_uri: str) -> dict[str, Any]:
        """The tokens for the code the authorization server redirected back with."""
        return await self._token(fields, "authorization code", {code, code_verifier}, "authorization_code",
                                 code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)

    async def ensure_fresh(self, fields: dict[str, Any]) -> dict[str, Any] | None:
        """New token fields when the access token is missing or expires within EXPIRY_MARGIN_S; None if it is good."""
        expires_at = fields.get("expires_at")
        if fields.get("access_token") and (expires_at is None or self.clock() < float(expires_at) - EXPIRY_MARGIN_S):
            return None
        return await self.refresh(fields)

    async def refresh(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A new access token now (the API answered 401): a refresh, or a client-credentials fetch."""
        if fields.get("grant_type") == "client_credentials":
            return await self._token(fields, "client credentials", set(), "client_credentials",
                                     scope=fields.get("scope") or None, audience=fields.get("audience") or None)
        refresh_token = fields.get("refresh_token")
        if not refresh_token:
            if fields.get("access_token"):
                raise OAuthError("the access token expired and the server gave no refresh token: reconnect the credential")
            raise OAuthError("the credential is not connected: connect it first")
        new = await self._token(fields, "refresh token", {refresh_token}, "refresh_token", refresh_token=refresh_token)
        if not new["refresh_token"]:   # no rotation: the old refresh token stays valid
            new["refresh_token"] = refresh_token
        return new

    async def _token(self, fields: dict[str, Any], what: str, sent: set[str], grant_type: str,
                     **params: Any) -> dict[str, Any]:
        url = _required(fields, "token_url")
        client_id, secret = _required(fields, "client_id"), str(fields.get("client_secret") or "")
        redactor = Redactor({s for s in (secret, fields.get("access_token"), fields.get("refresh_token"), *sent) if s})
        body = prepare_token_request(grant_type, **params)
        resp = await self._post(url, client_id, secret, body, "client_secret_basic" if secret else "none", redactor)
        if resp.status == 401 and secret and _error_body(resp).get("error") == "invalid_client":
            # Some servers take the client secret only in the body (client_secret_post).
            resp = await self._post(url, client_id, secret, body, "client_secret_post", redactor)
        return self._parse(resp, what, redactor)

    async def _post(self, url: str, client_id: str, secret: str, body: str, method: str,
                    redactor: Redactor) -> SafeResponse:
        headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
        url, headers, body = ClientAuth(client_id, secret, method).prepare("POST", url, headers, body)
        if "Authorization" in headers:   # base64 of id:secret is the secret too
            redactor.values.add(headers["Authorization"].partition(" ")[2])
        try:
            return await self.http.request("POST", url, headers=headers, content=body)
        except NodeTemporaryError as e:
            raise OAuthUnavailable(redactor.scrub(f"the token endpoint could not be reached: {e.message}")) from None
        except NodeConfigError as e:   # a blocked address, an invalid URL, a response too large
            raise OAuthError(redactor.scrub(f"token_url: {e.message}")) from None

    def _parse(self, resp: SafeResponse, what: str, redactor: Redactor) -> dict[str, Any]:
        if resp.status >= 500 or resp.status == 429:
            raise OAuthUnavailable(f"the token endpoint answered {resp.status}; try again later")
        data = _error_body(resp)
        if resp.status != 200 or "error" in data:
            raise OAuthError(redactor.scrub(_refusal(what, resp.status, data)))
        if not isinstance(data.get("access_token"), str) or not data["access_token"]:
            raise OAuthError("the token endpoint answered without an access_token")
        token_type = str(data.get("token_type") or "bearer")
        if token_type.lower() != "bearer":
            raise OAuthError(f"the token endpoint issued a {token_type!r} token; only bearer tokens are supported")
        try:
            expires_at = self.clock() + float(data["expires_in"]) if data.get("expires_in") is not None else None
        except (TypeError, ValueError):
            expires_at = None   # an unreadable lifetime: used until the API answers 401
        refresh_token = data.get("refresh_token") if isinstance(data.get("refresh_token"), str) else ""
        return {"access_token": data["access_token"], "refresh_token": refresh_token,
                "expires_at": expires_at, "connected": True}


def _error_body(resp: SafeResponse) -> dict[str, Any]:
    """The token endpoint's answer as a dict: JSON as RFC 6749 says, or a form (some providers)."""
    text = resp.text()
    try:
        data = json.loads(text)
    except ValueError:
        data = dict(parse_qsl(text)) if "=" in text and "<" not in text else {}
    return data if isinstance(data, dict) else {}


def _refusal(what: str, status: int, data: dict[str, Any]) -> str:
    error = str(data.get("error") or "")
    if not error:
        return f"the token endpoint answered {status} to the {what} request"
    description = str(data.get("error_description") or "")[:_MAX_QUOTED]
    reason = f"{error}: {description}" if description else error
    if error == "invalid_client":
        return f"the token endpoint refused the client ({reason}): check the client id and secret"
    if error == "invalid_grant" and what == "refresh token":
        return f"the refresh token was refused ({reason}): reconnect the credential"
    if error == "invalid_grant" and what == "authorization code":
        return f"the authorization code was refused ({reason}): connect again"
    return f"the token endpoint refused the {what} ({reason})"
