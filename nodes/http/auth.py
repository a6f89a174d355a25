"""What http.request and http.graphql share: a vault credential applied to a request (an OAuth2
token refreshed once when the API answers 401), the client to send it with, and Retry-After."""

from __future__ import annotations

import base64
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from nodes.credentials import HTTP_AUTH_TYPES
from nodes.net import SafeHttpClient, SafeResponse
from nodes.sdk import NodeContext, ResolvedCredential, resolve_credential


def authorize(cred: ResolvedCredential, headers: dict[str, str], params: dict[str, Any]) -> None:
    """Apply a credential to the request; it overrides a header or parameter of the same name."""
    f = cred.fields
    if cred.type == "bearer":
        headers["Authorization"] = f"Bearer {f['token']}"
    elif cred.type == "oauth2":
        headers["Authorization"] = f"Bearer {f['access_token']}"
    elif cred.type == "basic":
        token = base64.b64encode(f"{f['username']}:{f['password']}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    elif cred.type == "header":
        headers[str(f["name"])] = str(f["value"])
    elif cred.type == "query":
        params[str(f["name"])] = str(f["value"])


@asynccontextmanager
async def http_client(ctx: NodeContext, timeout_s: float | None) -> AsyncIterator[Any]:
    """ctx.http, or (no client injected: tests, CLI) one from MAILY_HTTP_* settings, closed after."""
    if ctx.http is not None:
        yield ctx.http
        return
    client = SafeHttpClient.from_env()
    if timeout_s:
        client.timeout_s = timeout_s
    try:
        yield client
    finally:
        await client.aclose()


async def send(ctx: NodeContext, client: Any, credential: str | None, method: str, url: str,
               headers: dict[str, str], params: dict[str, Any], **body: Any) -> SafeResponse:
    """Send the request with the credential (if any) applied; OAuth2 refreshes once on a 401."""
    if not credential:
        return await client.request(method, url, headers=headers, params=params or None, **body)
    cred = await resolve_credential(ctx, credential, HTTP_AUTH_TYPES)
    authorize(cred, headers, params)
    resp = await client.request(method, url, headers=headers, params=params or None, **body)
    if resp.status == 401 and cred.type == "oauth2":
        # The token may have been revoked or expired early: refresh once and try again.
        cred = await resolve_credential(ctx, credential, HTTP_AUTH_TYPES, refresh=True)
        authorize(cred, headers, params)
        resp = await client.request(method, url, headers=headers, params=params or None, **body)
    return resp
