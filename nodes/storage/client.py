"""An S3 client for storage.s3: aiobotocore, guarded like SafeHttpClient, its errors as node errors.

aiobotocore is botocore (the request signing, endpoint rules and response parsing every AWS SDK
for Python uses) driven by aiohttp, so an S3 call never blocks the event loop or holds a thread.
Two guards make its connections as safe as http.request's:

* `_GuardedSession` checks the URL of every request aiohttp sends, each redirect hop included,
  against private ranges (nodes.net.check_url): the endpoint, `bucket.endpoint` in virtual-host
  style, or an IP literal in a Location header, which never reaches a resolver;
* aiohttp resolves names through `_GuardedResolver`, which answers only addresses that passed
  the check, so the connection goes to exactly the address checked (no second DNS answer).

botocore's own retries are off: a temporary failure is a NodeTemporaryError and the engine retries
it with the node's backoff. Proxies from the environment are ignored, as SafeHttpClient does.
"""

from __future__ import annotations

import socket
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from aiobotocore.config import AioConfig
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import get_session
from aiohttp.abc import AbstractResolver, ResolveResult
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ParamValidationError, ReadTimeoutError

from nodes.net import allowed_hosts_from_env, check_url
from nodes.sdk import NodeConfigError, NodeError, NodeTemporaryError, ResolvedCredential

# Codes S3 (and S3-compatible servers) answer for a wrong key id or secret.
_BAD_CREDENTIAL = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                   "AuthorizationHeaderMalformed", "InvalidSecurity"}
_TEMPORARY = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed",
              "ServiceUnavailable", "InternalError", "RequestLimitExceeded", "TooManyRequests"}
# A missing thing, and the config field that named it.
_MISSING = {"NoSuchKey": "/key", "NoSuchBucket": "/bucket", "NotFound": "/key"}


class _GuardedResolver(AbstractResolver):
    """aiohttp's resolver, answering only the addresses nodes.net.check_url allowed for host:port."""

    def __init__(self, allowed_hosts: frozenset[str]):
        self.allowed_hosts = allowed_hosts

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        ips = await check_url(f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/",
                              self.allowed_hosts)
        return [ResolveResult(hostname=host, host=str(ip), port=port,
                              family=socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST) for ip in ips]

    async def close(self) -> None:
        return None


class _GuardedSession(AIOHTTPSession):
    """aiobotocore's aiohttp session whose connector checks each request's URL before it connects."""

    async def _create_connector(self, proxy_url: Any) -> Any:
        connector = await super()._create_connector(proxy_url)
        allowed = self._connector_args["resolver"].allowed_hosts
        plain = connector.connect

        async def connect(req: Any, *args: Any, **kwargs: Any) -> Any:
            await check_url(str(req.url), allowed)
            return await plain(req, *args, **kwargs)

        connector.connect = connect
        return connector


def endpoint_of(cred: ResolvedCredential) -> str:
    """The credential's endpoint URL, or AWS's regional endpoint when it has none."""
    return str(cred.fields.get("endpoint_url") or "").rstrip("/") or \
        f"https://s3.{cred.fields.get('region') or 'us-east-1'}.amazonaws.com"


def _addressing(f: dict[str, Any]) -> str:
    """path with force_path_style; else the bucket in the host name, as the AWS SDKs do for a custom
    endpoint (botocore's "auto" would pick path style there); for AWS itself, botocore decides."""
    if f.get("force_path_style"):
        return "path"
    return "virtual" if f.get("endpoint_url") else "auto"


@asynccontextmanager
async def s3_client(cred: ResolvedCredential, timeout_s: float,
                    allowed: frozenset[str] | None = None) -> AsyncIterator[Any]:
    """An aiobotocore S3 client for the credential; its endpoint is checked before anything is sent.
    `allowed`: the hosts that skip the private-address check (default MAILY_HTTP_ALLOWED_HOSTS)."""
    allowed = allowed_hosts_from_env() if allowed is None else allowed
    endpoint = endpoint_of(cred)
    try:
        await check_url(endpoint, allowed)
    except NodeConfigError as e:   # BlockedAddressError included: the endpoint is the credential's
        raise type(e)(f"credential {cred.id!r}: endpoint {e.message}", pointer="/credential") from None
    f = cred.fields
    config = AioConfig(
        region_name=f.get("region") or "us-east-1", signature_version="s3v4",
        connect_timeout=timeout_s, read_timeout=timeout_s,
        retries={"total_max_attempts": 1, "mode": "standard"},
        s3={"addressing_style": _addressing(f)},
        proxies={},   # not None: botocore then reads no HTTP(S)_PROXY from the environment
        connector_args={"resolver": _GuardedResolver(allowed)}, http_session_cls=_GuardedSession,
    )

    session = get_session()
    async with session.create_client(
            "s3", endpoint_url=f.get("endpoint_url") or None, aws_access_key_id=f.get("access_key_id"),
            aws_secret_access_key=f.get("secret_access_key"), config=config) as client:
        yield client


def node_error(exc: Exception, what: str, credential: str) -> Exception:
    """The node error for a failed S3 call; `what` says which call ("get s3://bucket/key"),
    `credential` which credential made it ("credential 'c1'")."""
    inner = getattr(exc, "kwargs", {}).get("error") if isinstance(exc, BotoCoreError) else None
    if isinstance(inner, NodeConfigError):   # a guard refused an address: the credential's endpoint led there
        return type(inner)(f"{what}: {credential}: {inner.message}", pointer="/credential")
    if isinstance(inner, NodeError):
        return inner
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or "")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = err.get("Message") or code or f"HTTP {status}"
        if code in _BAD_CREDENTIAL:
            return NodeConfigError(f"{what}: {credential} was refused ({code}: {message})",
                                   pointer="/credential")
        if code in _TEMPORARY or status == 429 or status >= 500:
            return NodeTemporaryError(f"{what}: the storage service answered {code or status} ({message}); "
                                      "it is retried")
        if code in _MISSING or status == 404:
            pointer = _MISSING.get(code, "/key")
            return NodeConfigError(f"{what}: {pointer[1:]} does not exist ({code or status})", pointer=pointer)
        if code in ("AccessDenied", "Forbidden") or status == 403:
            return NodeConfigError(f"{what}: {credential} may not do this ({code}: {message})",
                                   pointer="/credential")
        return NodeConfigError(f"{what}: {code or status}: {message}", pointer="/operation")
    if isinstance(exc, ParamValidationError):   # botocore refused the request before sending it
        return NodeConfigError(f"{what}: {exc}", pointer="/bucket" if "bucket" in str(exc).lower() else "/key")
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return NodeTemporaryError(f"{what}: timed out")
    if isinstance(exc, BotoCoreError):
        return NodeTemporaryError(f"{what}: {type(exc).__name__}: {exc}")
    return exc
