"""POST /api/credentials/{id}/test: try a credential for real and say what failed.

http types: a GET to the given URL with the auth applied (SafeHttpClient: the private-address
rule of http.request); smtp: connect and log in; imap: log in and open INBOX; postgres/mysql: `select 1`;
redis: PING; oauth2: obtain or refresh a token (backend/oauth); s3: list the buckets; webhook_url: the
URL's address check only (posting would show a message in the channel). SMTP, IMAP, SQL, Redis and S3
hosts pass the same address check
and are connected to at the checked address. Failures are results (ok false), never exceptions,
and every message is scrubbed of the credential's secret values before it leaves.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from backend.feeds.imap import open_mailbox
from backend.oauth.client import OAuthClient, OAuthError
from nodes.credentials import Redactor, ResolvedCredential
from nodes.email.providers import SmtpProvider
from nodes.errors import NodeConfigError, NodeTemporaryError
from nodes.net import SafeHttpClient, check_url, checked_address
from nodes.storage.client import endpoint_of, node_error, s3_client

HTTP_TYPES = ("bearer", "basic", "header", "query")


@dataclass
class Outcome:
    ok: bool
    message: str
    new_values: dict[str, Any] | None = None   # oauth2: tokens to store


def http_auth(ctype: str, values: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query params) that apply a credential of an http type."""
    if ctype == "bearer":
        return {"Authorization": f"Bearer {values['token']}"}, {}
    if ctype == "basic":
        raw = f"{values['username']}:{values['password']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}, {}
    if ctype == "header":
        return {values["name"]: values["value"]}, {}
    return {}, {values["name"]: values["value"]}


async def _http(ctype: str, values: dict[str, Any], url: str | None, http: SafeHttpClient) -> Outcome:
    if not url:
        return Outcome(False, "give the URL to test against (body: {\"url\": ...})")
    headers, params = http_auth(ctype, values)
    resp = await http.request("GET", url, headers=headers, params=params)
    if resp.status < 400:
        return Outcome(True, f"GET {url} answered {resp.status}")
    return Outcome(False, f"GET {url} answered {resp.status}")


async def _host(host: str, port: int, allowed: frozenset[str]) -> str:
    """The checked address to connect to (host names resolve once, private ones refused)."""
    return await checked_address(host, port, allowed)


async def _smtp(values: dict[str, Any], allowed: frozenset[str], timeout_s: float) -> Outcome:
    provider = SmtpProvider(host=values["host"], port=values["port"], security=values["security"],
                            username=values.get("username", ""), password=values.get("password", ""),
                            allowed_hosts=allowed, timeout_s=timeout_s)
    await provider.check_login()
    return Outcome(True, f"SMTP {values['host']}:{values['port']}: connected"
                         + (f" and logged in as {values['username']}" if values.get("username") else ""))


async def _imap(values: dict[str, Any], allowed: frozenset[str], timeout_s: float) -> Outcome:
    box = await open_mailbox(values, "INBOX", allowed, timeout=timeout_s)
    await box.close()
    return Outcome(True, f"IMAP {values['host']}:{values['port']}: logged in as {values['username']} and opened INBOX")


async def _postgres(values: dict[str, Any], allowed: frozenset[str], timeout_s: float) -> Outcome:
    import asyncpg

    address = await _host(values["host"], values["port"], allowed)
    conn = await asyncpg.connect(host=address, port=values["port"], user=values["username"],
                                 password=values.get("password") or None, database=values["database"],
                                 ssl="require" if values.get("ssl") else False, timeout=timeout_s)
    try:
        await conn.fetchval("select 1")
    finally:
        await conn.close()
    return Outcome(True, f"PostgreSQL {values['host']}:{values['port']}/{values['database']}: select 1 answered")


async def _mysql(values: dict[str, Any], allowed: frozenset[str], timeout_s: float) -> Outcome:
    import aiomysql

    address = await _host(values["host"], values["port"], allowed)
    conn = await aiomysql.connect(host=address, port=values["port"], user=values["username"],
                                  password=values.get("password", ""), db=values["database"],
                                  ssl=ssl.create_default_context() if values.get("ssl") else None,
                                  connect_timeout=timeout_s)
    try:
        async with conn.cursor() as cur:
            await cur.execute("select 1")
            await cur.fetchone()
    finally:
        conn.close()
    return Outcome(True, f"MySQL {values['host']}:{values['port']}/{values['database']}: select 1 answered")


async def _webhook(values: dict[str, Any], allowed: frozenset[str]) -> Outcome:
    await check_url(values["url"], allowed)
    return Outcome(True, "the webhook's host may be reached; nothing was posted (a test message would show in "
                         "the channel)")


async def _redis(values: dict[str, Any], allowed: frozenset[str], timeout_s: float) -> Outcome:
    import redis.asyncio as aioredis

    address = await _host(values["host"], values["port"], allowed)
    client = aioredis.Redis(host=address, port=values["port"], db=values.get("database") or 0,
                            username=values.get("username") or None, password=values.get("password") or None,
                            ssl=bool(values.get("tls")), ssl_cert_reqs="none", ssl_check_hostname=False,
                            socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return Outcome(True, f"Redis {values['host']}:{values['port']}/{values.get('database') or 0}: PING answered")
async def _s3(values: dict[str, Any], allowed: frozenset[str], timeout_s: float) -> Outcome:
    """ListBuckets, signed with the key: a refused key is a failure; AccessDenied means the key is
    good but may not list buckets (a key scoped to one bucket), which is a pass."""
    cred = ResolvedCredential("", "s3", values)
    endpoint = endpoint_of(cred)
    try:
        async with s3_client(cred, timeout_s, allowed) as client:
            buckets = (await client.list_buckets()).get("Buckets", [])
    except Exception as exc:  # noqa: BLE001 - mapped to a node error, the test's answer
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "AccessDenied":
            return Outcome(True, f"S3 {endpoint}: the key is accepted (it may not list buckets)")
        raise node_error(exc, f"S3 {endpoint}", "the key") from None
    return Outcome(True, f"S3 {endpoint}: the key is accepted and sees {len(buckets)} bucket(s)")


async def _oauth2(values: dict[str, Any], http: SafeHttpClient) -> Outcome:
    """A token refresh (authorization code) or a fresh client-credentials token, stored when it works."""
    if values.get("grant_type") == "authorization_code" and not values.get("refresh_token"):
        if values.get("access_token"):
            return Outcome(True, "connected; the server gave no refresh token, so there is nothing to refresh "
                                 "(reconnect when the access token expires)")
        return Outcome(False, "not connected yet: connect the credential in the browser first")
    try:
        new = await OAuthClient(http).refresh(values)
    except OAuthError as e:
        return Outcome(False, e.message)
    what = "refreshed the access token" if values.get("grant_type") == "authorization_code" else \
        "issued an access token for the client credentials"
    return Outcome(True, f"the token endpoint {what}", new_values=new)


async def run_test(ctype: str, values: dict[str, Any], secret_names: tuple[str, ...], url: str | None,
                   http: SafeHttpClient, timeout_s: float = 15.0) -> Outcome:
    """Try the credential; never raises for a failure of the credential or the far side."""
    allowed = http.allowed_hosts
    try:
        async with asyncio.timeout(timeout_s):
            if ctype in HTTP_TYPES:
                out = await _http(ctype, values, url, http)
            elif ctype == "smtp":
                out = await _smtp(values, allowed, timeout_s)
            elif ctype == "postgres":
                out = await _postgres(values, allowed, timeout_s)
            elif ctype == "mysql":
                out = await _mysql(values, allowed, timeout_s)
            elif ctype == "redis":
                out = await _redis(values, allowed, timeout_s)
            elif ctype == "s3":
                out = await _s3(values, allowed, timeout_s)
            elif ctype == "oauth2":
                out = await _oauth2(values, http)
            elif ctype == "webhook_url":
                out = await _webhook(values, allowed)
            elif ctype == "imap":
                out = await _imap(values, allowed, timeout_s)
            else:
                out = Outcome(False, f"{ctype} credentials have no test")
    except TimeoutError:
        out = Outcome(False, f"no answer within {timeout_s:g}s")
    except (NodeConfigError, NodeTemporaryError) as exc:
        out = Outcome(False, exc.message)
    except Exception as exc:  # noqa: BLE001 - a refused login, a driver error: the test's answer, not a 500
        out = Outcome(False, f"{type(exc).__name__}: {exc}")
    redactor = Redactor()
    redactor.add(ResolvedCredential("", ctype, values, secret_names))
    out.message = redactor.scrub(out.message)[:1000]
    return out
