"""Fixtures of the OAuth2 tests: the Authlib authorization server on loopback and an OAuthClient
whose SafeHttpClient may reach it (127.0.0.1 allowed, as an operator would allow an internal host)."""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager
from typing import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from backend.oauth.client import OAuthClient
from backend.settings import Settings
from nodes.net import SafeHttpClient
from tests.live_server import browser as signed_in_browser, serving
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


# --- the app side: an app that may reach the loopback authorization server ------------------

@pytest.fixture
def settings(db_url: str, tmp_path) -> Settings:
    # The in-process engine runs the workflows; 127.0.0.1 allowed so token and API calls reach authz.
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False, http_allowed_hosts="127.0.0.1")


@pytest.fixture
async def live(app) -> AsyncIterator[str]:
    """The app served on a loopback port (uvicorn in this event loop); "127.0.0.1:<port>"."""
    async with serving(app) as address:
        yield address


@pytest.fixture
def browser(live):
    """Opens a browser session of a member (cookie sign-in) on the live app; every response the
    session gets is kept in its `.seen`, to search for secrets."""

    @asynccontextmanager
    async def open_session(member) -> AsyncIterator[httpx.AsyncClient]:
        c = await signed_in_browser(live, member)
        c.seen = []

        async def keep(response: httpx.Response) -> None:
            await response.aread()
            c.seen.append(f"{response.request.method} {response.request.url}\n{response.text}")

        c.event_hooks["response"].append(keep)
        try:
            yield c
        finally:
            await c.aclose()

    return open_session


async def create_oauth_credential(c: httpx.AsyncClient, authz: OAuthServer, client: Client, **extra: object) -> str:
    r = await c.post("/api/credentials", json={"name": f"oauth {secrets.token_hex(4)}", "type": "oauth2",
                                               "data": code_fields(authz, client, **extra)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def browser_connect(c: httpx.AsyncClient, authz: OAuthServer, credential_id: str) -> httpx.Response:
    """The editor's connect button: start, the authorization server approves, the browser lands on the callback."""
    r = await c.post(f"/api/credentials/{credential_id}/oauth/start", json={})
    assert r.status_code == 200, r.text
    back = httpx.get(r.json()["authorize_url"], follow_redirects=False, trust_env=False)
    assert back.status_code == 302, back.text
    location = urlsplit(back.headers["location"])
    return await c.get(f"{location.path}?{location.query}")
