"""http.request against a real loopback server: bodies, statuses, retries hints, SSRF refusal."""

import pytest

from nodes.http import request
from nodes.net import BlockedAddressError
from nodes.sdk import NodeConfigError, NodeTemporaryError


def cfg(**kw):
    return request.Config.model_validate(kw)


async def test_get_parses_json_and_sends_query_and_headers(make_ctx, http_server, loopback_client):
    config = cfg(url=f"{http_server}/echo", query={"q": "x", "n": 2}, headers={"X-Token": 5})
    out = (await request.execute(make_ctx(http=loopback_client), config, {}))["output"]
    assert out["status"] == 200 and out["headers"]["content-type"] == "application/json"
    assert out["body"]["query"] == {"q": "x", "n": "2"} and out["body"]["headers"]["X-Token"] == "5"


async def test_post_sends_json_body(make_ctx, http_server, loopback_client):
    out = await request.execute(make_ctx(http=loopback_client),
                                cfg(method="POST", url=f"{http_server}/echo", body={"a": [1]}), {})
    assert out["output"]["body"]["body"] == '{"a":[1]}'


async def test_text_body_and_text_response(make_ctx, http_server, loopback_client):
    out = await request.execute(make_ctx(http=loopback_client),
                                cfg(method="PUT", url=f"{http_server}/echo", body="raw", body_type="text",
                                    response_type="text"), {})
    assert isinstance(out["output"]["body"], str) and '"body": "raw"' in out["output"]["body"]
    out = await request.execute(make_ctx(http=loopback_client), cfg(url=f"{http_server}/text"), {})
    assert out["output"]["body"] == "hello world"


async def test_json_response_type_on_text_is_a_config_error(make_ctx, http_server, loopback_client):
    with pytest.raises(NodeConfigError, match="JSON"):
        await request.execute(make_ctx(http=loopback_client), cfg(url=f"{http_server}/text", response_type="json"), {})


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_429_and_5xx_are_temporary_and_honour_retry_after(make_ctx, http_server, loopback_client, status):
    with pytest.raises(NodeTemporaryError) as err:
        await request.execute(make_ctx(http=loopback_client),
                              cfg(url=f"{http_server}/status/{status}?retry_after=7"), {})
    assert err.value.retry_after == 7


async def test_4xx_is_a_config_error_with_the_answer(make_ctx, http_server, loopback_client):
    with pytest.raises(NodeConfigError, match="404"):
        await request.execute(make_ctx(http=loopback_client), cfg(url=f"{http_server}/status/404"), {})


async def test_fail_on_status_off_outputs_any_status(make_ctx, http_server, loopback_client):
    out = await request.execute(make_ctx(http=loopback_client),
                                cfg(url=f"{http_server}/status/503", fail_on_status=False), {})
    assert out["output"]["status"] == 503 and out["output"]["body"] == {"error": 503}


async def test_without_injected_client_loopback_is_refused(make_ctx, http_server, monkeypatch):
    monkeypatch.delenv("MAILY_HTTP_ALLOWED_HOSTS", raising=False)
    with pytest.raises(BlockedAddressError):
        await request.execute(make_ctx(), cfg(url=f"{http_server}/echo"), {})


async def test_without_injected_client_env_allow_list_is_used(make_ctx, http_server, monkeypatch):
    monkeypatch.setenv("MAILY_HTTP_ALLOWED_HOSTS", "127.0.0.1")
    out = await request.execute(make_ctx(), cfg(url=f"{http_server}/text"), {})
    assert out["output"]["status"] == 200


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
                                 "http://100.64.0.1/", "http://10.0.0.1/", "http://2130706433/", "http://0x7f000001/"])
async def test_private_targets_are_refused_even_with_loopback_allowed(make_ctx, loopback_client, url):
    with pytest.raises(BlockedAddressError):
        await request.execute(make_ctx(http=loopback_client), cfg(url=url), {})


async def test_redirect_to_metadata_address_is_refused(make_ctx, http_server, loopback_client):
    url = f"{http_server}/redirect?to=http://169.254.169.254/latest/meta-data/"
    with pytest.raises(BlockedAddressError):
        await request.execute(make_ctx(http=loopback_client), cfg(url=url), {})


def test_spec_marks_side_effects_and_default_retries():
    assert request.SPEC.side_effects and request.SPEC.default_retries == 2
