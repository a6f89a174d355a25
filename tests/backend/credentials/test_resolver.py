"""DbCredentialStore against the real database: what a node gets for a credential id, and the
NodeConfigErrors it gets instead (unknown id, another workspace's, a type the node does not take)."""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa

from backend.credentials.envelope import Keyring
from backend.credentials.resolver import DbCredentialStore
from backend.credentials.models import Credential
from backend.credentials.services import open_values, store_values
from backend.oauth.client import OAuthError
from backend.runs.node_services import close_node_services, node_services
from nodes.errors import NodeConfigError

KEYS = Keyring("test-secret-key")


async def _create(client, member, type_, data, name="cred"):
    r = await client.post("/api/credentials", json={"name": name, "type": type_, "data": data}, headers=member.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


class FakeOAuth:
    """The OAuthClient interface (backend/oauth/client.py): refreshes when told the token is stale."""

    def __init__(self, *, refused: bool = False):
        self.calls: list[str] = []
        self.refused = refused

    async def ensure_fresh(self, fields):
        self.calls.append("ensure_fresh")
        if fields.get("expires_at") and fields["expires_at"] > time.time() + 60:
            return None
        return {"access_token": f"at-{len(self.calls)}", "refresh_token": "rt-2", "expires_at": time.time() + 3600}

    async def refresh(self, fields):
        self.calls.append("refresh")
        if self.refused:
            raise OAuthError("the refresh token was refused (invalid_grant): reconnect the credential")
        return {"access_token": "forced", "refresh_token": "rt-3", "expires_at": time.time() + 3600}


async def test_resolve_hands_out_every_field_and_names_the_secret_ones(client, db, tenant_a):
    """A basic credential resolves to username and password, password listed as secret."""
    cid = await _create(client, tenant_a.editor, "basic", {"username": "ada", "password": "s3cret-pw"})
    cred = await DbCredentialStore(db, KEYS).resolve(tenant_a.id, cid, ("basic", "bearer"))
    assert (cred.id, cred.type, cred.fields) == (cid, "basic", {"username": "ada", "password": "s3cret-pw"})
    assert cred.secret_names == ("password",) and cred.secret_values() == ["s3cret-pw"]


@pytest.mark.parametrize("which", ["unknown", "other-tenant", "junk"])
async def test_an_id_the_workspace_does_not_have_is_a_config_error(client, db, tenant_a, tenant_b, which):
    """Unknown ids, junk and another workspace's credential: NodeConfigError at /credential."""
    theirs = await _create(client, tenant_b.owner, "bearer", {"token": "theirs-token"})
    cid = {"unknown": "0" * 32, "other-tenant": theirs, "junk": "../x"}[which]
    with pytest.raises(NodeConfigError) as err:
        await DbCredentialStore(db, KEYS).resolve(tenant_a.id, cid, ("bearer",))
    assert err.value.pointer == "/credential" and "does not exist" in err.value.message
    assert "theirs-token" not in err.value.message


async def test_a_type_the_node_does_not_take_is_a_config_error(client, db, tenant_a):
    """A bearer field given a basic credential: NodeConfigError naming both types."""
    cid = await _create(client, tenant_a.editor, "basic", {"username": "ada", "password": "pw-pw-pw"})
    with pytest.raises(NodeConfigError) as err:
        await DbCredentialStore(db, KEYS).resolve(tenant_a.id, cid, ("bearer",))
    assert err.value.pointer == "/credential" and "basic" in err.value.message and "bearer" in err.value.message


async def test_oauth2_without_a_client_is_a_config_error(client, db, tenant_a):
    """No OAuth client configured: resolving an oauth2 credential says so."""
    cid = await _create(client, tenant_a.editor, "oauth2", {"grant_type": "client_credentials", "client_id": "c",
                                                            "client_secret": "cs", "token_url": "https://auth.example/t"})
    with pytest.raises(NodeConfigError, match="OAuth2 is not configured"):
        await DbCredentialStore(db, KEYS).resolve(tenant_a.id, cid, ("oauth2",))


async def test_oauth2_tokens_are_obtained_once_and_stored_sealed(client, db, tenant_a):
    """The first resolve obtains a token and seals it into the row; the second reuses it (no refresh)."""
    cid = await _create(client, tenant_a.editor, "oauth2", {"grant_type": "client_credentials", "client_id": "c",
                                                            "client_secret": "cs", "token_url": "https://auth.example/t"})
    oauth = FakeOAuth()
    store = DbCredentialStore(db, KEYS, oauth)
    first = await store.resolve(tenant_a.id, cid, ("oauth2",))
    second = await store.resolve(tenant_a.id, cid, ("oauth2",))
    assert first.fields["access_token"] == second.fields["access_token"] == "at-1"
    assert "access_token" in first.secret_names and "refresh_token" in first.secret_names
    async with db.sessionmaker() as s:
        row = await s.get(Credential, cid)
    assert "at-1" not in str(row.fields) and row.fields["connected"] is True
    assert open_values(row, KEYS)["refresh_token"] == "rt-2"
    forced = await store.refresh(tenant_a.id, cid)
    assert forced.fields["access_token"] == "forced" and oauth.calls == ["ensure_fresh", "ensure_fresh", "refresh"]


async def test_a_refused_refresh_is_a_config_error_with_the_reason(client, db, tenant_a):
    """The OAuth client refusing (revoked refresh token) surfaces as a NodeConfigError saying to reconnect."""
    cid = await _create(client, tenant_a.editor, "oauth2", {"grant_type": "client_credentials", "client_id": "c",
                                                            "token_url": "https://auth.example/t"})
    with pytest.raises(NodeConfigError, match="reconnect the credential"):
        await DbCredentialStore(db, KEYS, FakeOAuth(refused=True)).refresh(tenant_a.id, cid)


async def test_node_services_resolve_from_the_vault(client, settings, tenant_a):
    """The services every run gets (node_services) resolve a credential made through the API."""
    cid = await _create(client, tenant_a.editor, "bearer", {"token": "wired-token"})
    services = node_services(settings)
    try:
        cred = await services.nodes.credentials.resolve(tenant_a.id, cid, ("bearer",))
        assert cred.fields == {"token": "wired-token"}
    finally:
        await close_node_services(services)


async def test_a_refresh_waits_for_a_reconnect_in_progress_and_keeps_its_tokens(client, db, tenant_a):
    """While a reconnect holds the credential's row, a resolve waits for it, then uses the new
    tokens instead of refreshing the old ones over them."""
    cid = await _create(client, tenant_a.editor, "oauth2", {"grant_type": "client_credentials", "client_id": "c",
                                                            "client_secret": "cs", "token_url": "https://auth.example/t"})
    oauth = FakeOAuth()
    store = DbCredentialStore(db, KEYS, oauth)
    async with db.sessionmaker() as reconnect:   # what /oauth/callback does: lock, write the new tokens
        row = (await reconnect.execute(sa.select(Credential).where(Credential.id == cid).with_for_update())).scalar_one()
        await store_values(reconnect, row, KEYS, {**open_values(row, KEYS), "access_token": "reconnected",
                                                  "refresh_token": "rt-new", "expires_at": time.time() + 3600})
        resolving = asyncio.create_task(store.resolve(tenant_a.id, cid, ("oauth2",)))
        done, _ = await asyncio.wait({resolving}, timeout=0.5)
        assert not done, "the resolve read the row while a reconnect held it"
        await reconnect.commit()
    cred = await resolving
    assert cred.fields["access_token"] == "reconnected" and oauth.calls == ["ensure_fresh"]
