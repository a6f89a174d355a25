"""http.request with a `credential`: each auth type is applied, OAuth2 refreshes once on a 401,
and every secret the node resolved is registered with the run's redactor."""

import base64

import pytest

from nodes.credentials import MemoryCredentials, ResolvedCredential
from nodes.http import request
from nodes.sdk import NodeConfigError

TOKEN = "tok-MARKER-5f1e2d3c4b"


def cred(id_: str, type_: str, secret: tuple[str, ...], **fields) -> ResolvedCredential:
    return ResolvedCredential(id_, type_, fields, secret)


def ctx_with(make_ctx, loopback_client, *creds: ResolvedCredential, refreshed=None):
    store = MemoryCredentials({c.id: c for c in creds}, refreshed)
    return make_ctx(http=loopback_client, services={"credentials": store})


async def test_a_bearer_credential_sets_the_authorization_header(make_ctx, http_server, loopback_client):
    """The bearer token reaches the server, and the run's redactor knows it."""
    ctx = ctx_with(make_ctx, loopback_client, cred("c1", "bearer", ("token",), token=TOKEN))
    out = await request.execute(ctx, request.Config(url=f"{http_server}/echo", credential="c1"), {})
    assert out["output"]["body"]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert ctx.redactor.scrub(out)["output"]["body"]["headers"]["Authorization"] == "Bearer [redacted]"


@pytest.mark.parametrize("credential, where, expected", [
    (cred("c", "basic", ("password",), username="ann", password="pw-secret-1"), "header",
     ("Authorization", "Basic " + base64.b64encode(b"ann:pw-secret-1").decode())),
    (cred("c", "header", ("value",), name="X-Api-Key", value="key-secret-1"), "header", ("X-Api-Key", "key-secret-1")),
    (cred("c", "query", ("value",), name="api_key", value="key-secret-2"), "query", ("api_key", "key-secret-2")),
])
async def test_basic_header_and_query_credentials_are_applied(make_ctx, http_server, loopback_client,
                                                              credential, where, expected):
    """Basic, header and query credentials each put their secret where the API expects it."""
    ctx = ctx_with(make_ctx, loopback_client, credential)
    body = (await request.execute(ctx, request.Config(url=f"{http_server}/echo", credential="c"), {}))["output"]["body"]
    name, value = expected
    assert (body["headers"] if where == "header" else body["query"])[name] == value


async def test_a_credential_overrides_a_literal_header_of_the_same_name(make_ctx, http_server, loopback_client):
    """A stale literal Authorization header does not win over the credential."""
    ctx = ctx_with(make_ctx, loopback_client, cred("c1", "bearer", ("token",), token=TOKEN))
    config = request.Config(url=f"{http_server}/echo", credential="c1", headers={"Authorization": "Bearer old"})
    out = await request.execute(ctx, config, {})
    assert out["output"]["body"]["headers"]["Authorization"] == f"Bearer {TOKEN}"


async def test_oauth2_refreshes_once_on_401_and_retries(make_ctx, http_server, loopback_client):
    """An access token the API refuses is refreshed once, and the request is sent again with the new one."""
    stale = cred("o", "oauth2", ("access_token", "refresh_token"), access_token="stale-token", refresh_token="refresh-one")
    fresh = cred("o", "oauth2", ("access_token", "refresh_token"), access_token="fresh-token", refresh_token="refresh-two")
    ctx = ctx_with(make_ctx, loopback_client, stale, refreshed={"o": fresh})
    out = await request.execute(ctx, request.Config(url=f"{http_server}/auth?token=fresh-token", credential="o"), {})
    assert out["output"]["status"] == 200 and out["output"]["body"]["ok"] is True
    assert {"stale-token", "fresh-token", "refresh-one", "refresh-two"} <= ctx.redactor.values


async def test_oauth2_still_refused_after_the_refresh_is_a_config_error(make_ctx, http_server, loopback_client):
    """A second 401 after one refresh is not retried again: the node fails naming the status."""
    stale = cred("o", "oauth2", ("access_token",), access_token="stale-token")
    ctx = ctx_with(make_ctx, loopback_client, stale, refreshed={"o": stale})
    with pytest.raises(NodeConfigError, match="401"):
        await request.execute(ctx, request.Config(url=f"{http_server}/auth?token=other", credential="o"), {})


async def test_an_unknown_or_mistyped_credential_names_the_field(make_ctx, http_server, loopback_client):
    """An id the vault does not have, or a credential of a type the node does not take, fails at /credential."""
    ctx = ctx_with(make_ctx, loopback_client, cred("smtp1", "smtp", ("password",), password="pw-secret"))
    for cid in ("missing", "smtp1"):
        with pytest.raises(NodeConfigError) as err:
            await request.execute(ctx, request.Config(url=f"{http_server}/echo", credential=cid), {})
        assert err.value.pointer == "/credential"
