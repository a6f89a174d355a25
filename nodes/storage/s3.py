"""storage.s3: list, get, put, delete and presign objects in S3 or any S3-compatible store."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Literal

from pydantic import Field

from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, Port, credential_field, resolve_credential
from nodes.storage.client import node_error, s3_client

SPEC = NodeSpec(
    type="storage.s3",
    version=1,
    title="S3 storage",
    category="storage",
    icon="archive",
    description="Lists, reads, writes and deletes objects in an S3-compatible bucket, or makes a presigned "
                "URL. Throttling and 5xx answers are retried; a private endpoint is refused unless allowed.",
    inputs=(Port("input", "any", "Available to expressions as `input`"),),
    outputs=(Port("output", "object", "What the operation gives (see docs/integrations.md)"),),
    side_effects=True,
    side_effect_kind="unkeyed",   # a put repeated on a versioned bucket keeps one more version
    default_retries=2,
)

MAX_GET_BYTES = 10 * 1024 * 1024


class Config(NodeConfig):
    operation: Literal["list", "get", "put", "delete", "presign"] = Field(default="get")
    credential: str | None = credential_field("s3", description="An s3 credential: endpoint, region and keys")
    bucket: str = Field(min_length=3, max_length=255, description="Bucket name")
    key: str = Field(default="", max_length=1024, description="Object key (get, put, delete, presign)")
    prefix: str = Field(default="", max_length=1024, description="list: only keys starting with this")
    max_keys: int = Field(default=1000, ge=1, le=1000, description="list: at most this many keys")
    continuation_token: str = Field(default="", max_length=4096, description="list: next_token of a previous list")
    encoding: Literal["auto", "text", "base64"] = Field(
        default="auto", description="get: the body as text, as base64, or auto (text when it is UTF-8)")
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1, le=MAX_GET_BYTES, description="get: larger objects fail")
    body: Any = Field(default=None, description="put: text, or any JSON value (stored as JSON)")
    body_encoding: Literal["text", "base64"] = Field(default="text", description="put: base64 for binary bodies")
    content_type: str = Field(default="", max_length=255, description="put: Content-Type (default from the body)")
    method: Literal["GET", "PUT"] = Field(default="GET", description="presign: the method the URL allows")
    expires_s: int = Field(default=3600, ge=1, le=604_800, description="presign: seconds the URL stays valid")


def _body(config: Config) -> tuple[bytes, str]:
    if config.body is None:
        raise NodeConfigError("put needs a body", pointer="/body")
    if config.body_encoding == "base64":
        try:
            return base64.b64decode(str(config.body), validate=True), "application/octet-stream"
        except (binascii.Error, ValueError):
            raise NodeConfigError("body is not valid base64", pointer="/body") from None
    if isinstance(config.body, str):
        return config.body.encode(), "text/plain; charset=utf-8"
    return json.dumps(config.body).encode(), "application/json"


async def _read(resp: dict[str, Any], config: Config) -> dict[str, Any]:
    size = int(resp.get("ContentLength") or 0)
    if size > config.max_bytes:
        raise NodeConfigError(f"object {config.key!r} is {size} bytes, more than max_bytes ({config.max_bytes})",
                              pointer="/max_bytes")
    chunks: list[bytes] = []
    read = 0
    async with resp["Body"] as stream:   # a read gives what has arrived: loop to the end
        while chunk := await stream.read(65536):
            read += len(chunk)
            if read > config.max_bytes:
                raise NodeConfigError(f"object {config.key!r} is larger than max_bytes ({config.max_bytes})",
                                      pointer="/max_bytes")
            chunks.append(chunk)
    data = b"".join(chunks)
    body: str | None = None
    if config.encoding != "base64":
        try:
            body, encoding = data.decode("utf-8"), "text"
        except UnicodeDecodeError:
            if config.encoding == "text":
                raise NodeConfigError(f"object {config.key!r} is not UTF-8 text; use encoding base64",
                                      pointer="/encoding") from None
    if body is None:
        body, encoding = base64.b64encode(data).decode(), "base64"
    return {"key": config.key, "size": len(data), "content_type": resp.get("ContentType", ""),
            "etag": str(resp.get("ETag", "")).strip('"'), "last_modified": _iso(resp.get("LastModified")),
            "encoding": encoding, "body": body}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def _run(client: Any, config: Config) -> dict[str, Any]:
    bucket, key = config.bucket, config.key
    if config.operation == "list":
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": config.prefix, "MaxKeys": config.max_keys}
        if config.continuation_token:
            args["ContinuationToken"] = config.continuation_token
        resp = await client.list_objects_v2(**args)
        objects = [{"key": o["Key"], "size": o.get("Size", 0), "etag": str(o.get("ETag", "")).strip('"'),
                    "last_modified": _iso(o.get("LastModified"))} for o in resp.get("Contents", [])]
        return {"objects": objects, "truncated": bool(resp.get("IsTruncated")),
                "next_token": resp.get("NextContinuationToken")}
    if config.operation == "get":
        return await _read(await client.get_object(Bucket=bucket, Key=key), config)
    if config.operation == "put":
        data, default_type = _body(config)
        resp = await client.put_object(Bucket=bucket, Key=key, Body=data,
                                       ContentType=config.content_type or default_type)
        return {"key": key, "size": len(data), "etag": str(resp.get("ETag", "")).strip('"')}
    if config.operation == "delete":
        await client.delete_object(Bucket=bucket, Key=key)
        return {"key": key, "deleted": True}
    url = await client.generate_presigned_url("get_object" if config.method == "GET" else "put_object",
                                              Params={"Bucket": bucket, "Key": key}, ExpiresIn=config.expires_s)
    return {"url": url, "method": config.method, "expires_s": config.expires_s}


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    if not config.credential:
        raise NodeConfigError("choose an s3 credential", pointer="/credential")
    if config.operation != "list" and not config.key:
        raise NodeConfigError(f"{config.operation} needs an object key", pointer="/key")
    cred = await resolve_credential(ctx, config.credential, ("s3",))
    what = f"{config.operation} s3://{config.bucket}/{config.prefix if config.operation == 'list' else config.key}"
    try:
        # the operator's allow-list as the app's HTTP client carries it (MAILY_HTTP_ALLOWED_HOSTS without one)
        allowed = getattr(ctx.http, "allowed_hosts", None)
        async with s3_client(cred, config.timeout_s or SPEC.default_timeout_s, allowed) as client:
            return {"output": await _run(client, config)}
    except Exception as exc:  # noqa: BLE001 - mapped to node errors; anything else is re-raised as is
        raise node_error(exc, what, f"credential {cred.id!r}") from None
