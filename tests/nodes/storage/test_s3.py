"""storage.s3 against a real S3 (moto's server on loopback): each operation, its errors, and the
endpoint's address check."""

from __future__ import annotations

import base64
import json
import threading

import httpx
import pytest

from nodes.net import BlockedAddressError
from nodes.sdk import NodeConfigError, NodeTemporaryError
from nodes.storage import s3


def cfg(bucket: str, **kw) -> s3.Config:
    return s3.Config(bucket=bucket, credential="s3", **kw)


async def test_put_then_get_returns_the_text_and_its_content_type(s3_ctx, bucket):
    """A text body put is read back as text with the content type it was stored with."""
    ctx = s3_ctx()
    put = await s3.execute(ctx, cfg(bucket, operation="put", key="notes/a.txt", body="héllo"), {})
    assert put["output"]["size"] == len("héllo".encode())
    out = (await s3.execute(ctx, cfg(bucket, operation="get", key="notes/a.txt"), {}))["output"]
    assert (out["body"], out["encoding"], out["content_type"]) == ("héllo", "text", "text/plain; charset=utf-8")


async def test_a_json_body_is_stored_as_json(s3_ctx, s3_server, bucket):
    """An object or list body is stored as JSON with Content-Type application/json."""
    await s3.execute(s3_ctx(), cfg(bucket, operation="put", key="d.json", body={"n": [1, 2]}), {})
    obj = s3_server.boto().get_object(Bucket=bucket, Key="d.json")
    assert json.loads(obj["Body"].read()) == {"n": [1, 2]} and obj["ContentType"] == "application/json"


async def test_binary_objects_round_trip_as_base64(s3_ctx, bucket):
    """A base64 body is stored as bytes; bytes that are not UTF-8 are read back as base64."""
    raw = bytes(range(256))
    ctx = s3_ctx()
    await s3.execute(ctx, cfg(bucket, operation="put", key="b.bin", body=base64.b64encode(raw).decode(),
                              body_encoding="base64"), {})
    out = (await s3.execute(ctx, cfg(bucket, operation="get", key="b.bin"), {}))["output"]
    assert out["encoding"] == "base64" and base64.b64decode(out["body"]) == raw
    assert out["content_type"] == "application/octet-stream"


async def test_a_large_object_is_read_whole(s3_ctx, s3_server, bucket):
    """A 3 MB object arrives in many reads; the output holds all of it."""
    raw = bytes(range(256)) * (3 * 4096)
    s3_server.boto().put_object(Bucket=bucket, Key="large", Body=raw)
    out = (await s3.execute(s3_ctx(), cfg(bucket, operation="get", key="large", encoding="base64"), {}))["output"]
    assert out["size"] == len(raw) and base64.b64decode(out["body"]) == raw


async def test_get_refuses_an_object_larger_than_max_bytes(s3_ctx, s3_server, bucket):
    """An object over max_bytes fails at /max_bytes instead of being read whole."""
    s3_server.boto().put_object(Bucket=bucket, Key="big", Body=b"x" * 2000)
    with pytest.raises(NodeConfigError) as err:
        await s3.execute(s3_ctx(), cfg(bucket, operation="get", key="big", max_bytes=1000), {})
    assert err.value.pointer == "/max_bytes"


async def test_list_gives_keys_under_the_prefix_and_pages(s3_ctx, s3_server, bucket):
    """list returns the keys under the prefix, max_keys at a time, with a token for the next page."""
    for k in ("in/1", "in/2", "in/3", "out/1"):
        s3_server.boto().put_object(Bucket=bucket, Key=k, Body=b"1")
    ctx = s3_ctx()
    first = (await s3.execute(ctx, cfg(bucket, operation="list", prefix="in/", max_keys=2), {}))["output"]
    assert [o["key"] for o in first["objects"]] == ["in/1", "in/2"] and first["truncated"]
    rest = (await s3.execute(ctx, cfg(bucket, operation="list", prefix="in/", max_keys=2,
                                      continuation_token=first["next_token"]), {}))["output"]
    assert [o["key"] for o in rest["objects"]] == ["in/3"] and not rest["truncated"]


async def test_delete_removes_the_object(s3_ctx, s3_server, bucket):
    """After delete, the object is gone from the bucket."""
    s3_server.boto().put_object(Bucket=bucket, Key="gone", Body=b"1")
    await s3.execute(s3_ctx(), cfg(bucket, operation="delete", key="gone"), {})
    assert "Contents" not in s3_server.boto().list_objects_v2(Bucket=bucket)


async def test_presigned_urls_work_without_the_credential(s3_ctx, s3_server, bucket, auth_off):
    """A presigned PUT URL uploads and a presigned GET URL downloads; both are SigV4, signed with the
    credential's key id, and carry no secret."""
    ctx = s3_ctx()
    put = (await s3.execute(ctx, cfg(bucket, operation="presign", key="p.txt", method="PUT", expires_s=60), {}))
    assert f"X-Amz-Credential={s3_server.access_key_id}" in put["output"]["url"]
    assert httpx.put(put["output"]["url"], content=b"via url").status_code == 200
    get = (await s3.execute(ctx, cfg(bucket, operation="presign", key="p.txt"), {}))["output"]
    assert "X-Amz-Expires=3600" in get["url"] and s3_server.secret_access_key not in get["url"]
    assert httpx.get(get["url"]).content == b"via url"


@pytest.mark.parametrize("change, code", [({"access_key_id": "AKIANOSUCHKEY0000000"}, "InvalidAccessKeyId"),
                                          ({"secret_access_key": "wrong-secret-value"}, "SignatureDoesNotMatch")])
async def test_a_refused_credential_is_a_config_error_naming_it(s3_ctx, s3_server, bucket, change, code):
    """An unknown key id or a wrong secret fails at /credential, naming the credential and S3's code."""
    bad = s3_server.credential("bad", **change)
    with pytest.raises(NodeConfigError) as err:
        await s3.execute(s3_ctx(bad), s3.Config(bucket=bucket, credential="bad", operation="list"), {})
    assert err.value.pointer == "/credential" and "'bad'" in err.value.message and code in err.value.message


@pytest.mark.parametrize("bucket_name, pointer", [("no-such-bucket-here", "/bucket"), (None, "/key")])
async def test_a_missing_bucket_or_key_names_the_field(s3_ctx, bucket, bucket_name, pointer):
    """NoSuchBucket points at /bucket and NoSuchKey at /key."""
    with pytest.raises(NodeConfigError) as err:
        await s3.execute(s3_ctx(), cfg(bucket_name or bucket, operation="get", key="missing"), {})
    assert err.value.pointer == pointer and "does not exist" in err.value.message


@pytest.mark.parametrize("status, code", [(503, "SlowDown"), (500, "InternalError")])
async def test_throttling_and_5xx_are_temporary(s3_ctx, proxy, bucket, status, code):
    """SlowDown and 5xx answers raise NodeTemporaryError (retried by the engine), after one request."""
    proxy.failures.append((status, code))
    with pytest.raises(NodeTemporaryError, match=code):
        await s3.execute(s3_ctx(url=proxy.url), cfg(bucket, operation="list"), {})
    assert proxy.requests == 1   # botocore's own retries are off: the engine's backoff decides


async def test_a_stalled_endpoint_times_out_as_temporary(s3_ctx, proxy, bucket):
    """An endpoint that does not answer within timeout_s fails as a temporary timeout."""
    proxy.stall = threading.Event()
    with pytest.raises(NodeTemporaryError, match="timed out"):
        await s3.execute(s3_ctx(url=proxy.url), cfg(bucket, operation="list", timeout_s=0.5), {})


async def test_a_private_endpoint_is_refused_unless_allowed(s3_ctx, monkeypatch, bucket):
    """Without MAILY_HTTP_ALLOWED_HOSTS a loopback endpoint is refused before any request, at /credential."""
    monkeypatch.delenv("MAILY_HTTP_ALLOWED_HOSTS")
    with pytest.raises(BlockedAddressError) as err:
        await s3.execute(s3_ctx(), cfg(bucket, operation="list"), {})
    assert err.value.pointer == "/credential" and "127.0.0.1" in err.value.message


@pytest.mark.parametrize("config, pointer", [(dict(operation="get"), "/key"),
                                             (dict(operation="put", key="k"), "/body"),
                                             (dict(operation="put", key="k", body="%%", body_encoding="base64"), "/body"),
                                             (dict(operation="list", credential=None), "/credential")])
async def test_incomplete_configs_name_the_field(s3_ctx, bucket, config, pointer):
    """A missing key, body or credential, or a body that is not base64, fails at its field."""
    with pytest.raises(NodeConfigError) as err:
        await s3.execute(s3_ctx(), s3.Config(bucket=bucket, **{"credential": "s3", **config}), {})
    assert err.value.pointer == pointer


async def test_the_secret_is_registered_with_the_redactor(s3_ctx, s3_server, bucket):
    """The run's redactor learns the secret access key the node resolved."""
    ctx = s3_ctx()
    await s3.execute(ctx, cfg(bucket, operation="list"), {})
    assert s3_server.secret_access_key in ctx.redactor.values


async def test_every_request_host_is_checked_not_only_the_endpoint(s3_ctx, s3_server, monkeypatch, bucket):
    """In virtual-host style the request goes to bucket.<endpoint host>: that name is checked too, at /credential."""
    port = s3_server.url.rsplit(":", 1)[1]
    monkeypatch.setenv("MAILY_HTTP_ALLOWED_HOSTS", "localhost")
    cred = s3_server.credential("vhost", url=f"http://localhost:{port}", force_path_style=False)
    with pytest.raises(NodeConfigError) as err:
        await s3.execute(s3_ctx(cred), s3.Config(bucket=bucket, credential="vhost", operation="list"), {})
    assert err.value.pointer == "/credential" and f"{bucket}.localhost" in err.value.message


async def test_an_ip_endpoint_works_without_force_path_style(s3_ctx, s3_server, bucket):
    """An endpoint given as an IP address cannot carry the bucket in its host name: path style is used."""
    cred = s3_server.credential("ip", force_path_style=False)
    out = await s3.execute(s3_ctx(cred), s3.Config(bucket=bucket, credential="ip", operation="list"), {})
    assert out["output"]["objects"] == []


async def test_a_proxy_from_the_environment_is_not_used(s3_ctx, monkeypatch, bucket):
    """HTTP(S)_PROXY pointing at a dead port changes nothing: the client connects to the checked address itself."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    out = await s3.execute(s3_ctx(), cfg(bucket, operation="list"), {})
    assert out["output"]["objects"] == []


async def test_a_redirect_to_a_private_address_is_refused(s3_ctx, proxy, bucket):
    """An allowed endpoint answering 307 to another loopback address (an IP, which no resolver sees) is
    refused at /credential before a connection is made there."""
    proxy.redirect_to = "http://127.0.0.2:9"
    with pytest.raises(BlockedAddressError) as err:
        await s3.execute(s3_ctx(url=proxy.url), cfg(bucket, operation="list"), {})
    assert err.value.pointer == "/credential" and "127.0.0.2" in err.value.message and proxy.requests == 1


async def test_a_bucket_name_botocore_refuses_is_a_config_error(s3_ctx):
    """A bucket name S3 cannot have fails at /bucket before anything is sent, and is not retried."""
    with pytest.raises(NodeConfigError) as err:
        await s3.execute(s3_ctx(), cfg("no/slashes/here", operation="list"), {})
    assert err.value.pointer == "/bucket"
