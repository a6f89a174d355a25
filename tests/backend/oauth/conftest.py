"""Fixtures of the OAuth2 tests: the Authlib authorization server on loopback and an OAuthClient
whose SafeHttpClient may reach it (127.0.0.1 allowed, as an operator would allow an internal host)."""

from __future__ import annotations

from typing import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from backend.oauth.client import OAuthClient
from nodes.net import SafeHttpClient
from tests.oauth_server import Client, OAuthServer, oauth_server

REDIRECT_URI = "http://127.0.0.1:9/oauth/callback"   # never fetched: the tests read the redirect


@pytest.fixture(scope="module")
def authz() -> Iterator[OAuthServer]:
    with oauth_server() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[SafeHttpClient]:
    async with SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), timeout_s=10) as client:
        yield client


def code_fields(authz: OAuthServer, client: Client, **extra: object) -> dict:
    """An oauth2 credential's data for the authorization code grant against `authz`."""
    return {"grant_type": "authorization_code", "client_id": client.client_id, "client_secret": client.client_secret,
            "authorize_url": authz.url("/authorize"), "token_url": authz.url("/token"), "scope": "read", **extra}


def approve(authorize_url: str) -> dict[str, str]:
    """Follows the authorize URL as a browser would; the query of the redirect back (code, state or error)."""
    resp = httpx.get(authorize_url, follow_redirects=False, trust_env=False)
    assert resp.status_code == 302, resp.text
    return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["location"]).query).items()}


async def connect(oauth: OAuthClient, fields: dict) -> dict:
    """The tokens of a completed connect flow (authorize, approve, exchange)."""
    url, verifier = oauth.authorization_url(fields, REDIRECT_URI, "state-1")
    back = approve(url)
    return await oauth.exchange_code(fields, back["code"], verifier, REDIRECT_URI)
