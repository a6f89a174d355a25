"""The OAuth2 "Connect" button in Chromium (editor/src/credentials/ConnectButton.tsx): a popup goes
to a real Authlib authorization server on loopback, comes back through /oauth/callback, and the
credentials screen says "connected"."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import api_as
from tests.oauth_server import OAuthServer, oauth_server


@pytest.fixture
def authz() -> Iterator[OAuthServer]:
    with oauth_server() as server:
        yield server


@pytest.fixture
async def server(e2e_db_url: str, editor_dist: Path, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The app allowed to reach 127.0.0.1 (the token endpoint), knowing its own URL (the redirect URI)."""
    live = LiveServer(e2e_db_url, tmp_path / "data", editor_dist, http_allowed_hosts="127.0.0.1")
    live.settings["public_url"] = live.url
    await live.start()
    yield live
    await live.stop()


async def test_connect_opens_the_provider_and_the_screen_says_connected(
        sign_in, server: LiveServer, tenant: TenantFixture, authz: OAuthServer) -> None:
    """Connect on an authorization-code credential opens the provider in a popup; after the provider
    sends the browser back, the popup closes and the row says connected, as the API does."""
    client = authz.add_client(redirect_uris=(f"{server.url}/oauth/callback",))
    r = await api_as(server, tenant.editor, "POST", "/api/credentials", json={"name": "Provider", "type": "oauth2", "data": {
        "grant_type": "authorization_code", "client_id": client.client_id, "client_secret": client.client_secret,
        "authorize_url": authz.url("/authorize"), "token_url": authz.url("/token"), "scope": "read"}})
    assert r.status_code == 201, r.text
    page = await sign_in(tenant.editor)
    await page.goto(server.url + "/settings/credentials")
    async with page.expect_popup() as popup_info:
        await page.get_by_test_id("credential-connect-Provider").click()
    popup = await popup_info.value
    await popup.wait_for_event("close")
    await page.locator('[data-testid="credential-connection-Provider"][data-state="connected"]').wait_for()
    got = await api_as(server, tenant.editor, "GET", f"/api/credentials/{r.json()['id']}")
    assert got.json()["fields"]["connected"] is True
