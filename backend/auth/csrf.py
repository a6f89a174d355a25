"""CSRF defence for cookie-authenticated unsafe requests and for sign-in (security item 7).

A request is checked when its method is unsafe (POST/PUT/PATCH/DELETE) and it carries the
session cookie, or when it is a sign-in (login CSRF). Bearer-token requests are exempt: a
browser never attaches an Authorization header cross-site on its own.

The check, in order:
1. Origin (or, when absent, Referer's origin) must be this host or in MAILY_ALLOWED_ORIGINS;
   a foreign one is refused.
2. The body must be `application/json`, or the request must echo the `maily_csrf` cookie in
   `X-CSRF-Token` (double submit). A cross-site form or `fetch(..., {mode: "no-cors"})` can
   only send text/plain, urlencoded or multipart without a CORS preflight, so JSON with a
   matching Origin is as strong as a token and keeps the editor (which sends JSON) unchanged.
Each refusal is a 403 problem+json.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from backend.errors import PROBLEM_JSON, problem

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Requests that sign someone in or set a password without a session yet (login CSRF).
SIGN_IN_PATHS = frozenset({"/api/auth/login", "/api/auth/signup", "/api/auth/password-reset",
                           "/api/auth/password-reset/confirm"})
# Public pages whose unsafe requests are authorised by the signed token in their URL, never by
# the session cookie a browser may also send (an approver who happens to be signed in).
TOKEN_LINK_PREFIXES = ("/api/approvals/",)
CSRF_COOKIE = "maily_csrf"
CSRF_HEADER = "x-csrf-token"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def csrf_refusal(method: str, path: str, headers: dict[str, str], allowed: frozenset[str]) -> str | None:
    """Why this request is refused as a possible CSRF, or None when it may pass."""
    if method not in UNSAFE_METHODS or headers.get("authorization", "").lower().startswith("bearer "):
        return None
    if path.startswith(TOKEN_LINK_PREFIXES):
        return None
    cookies = SimpleCookie()
    try:
        cookies.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header carries no session either
        cookies = SimpleCookie()
    signs_in = path in SIGN_IN_PATHS or (path.startswith("/api/invitations/") and path.endswith("/accept"))
    if "maily_session" not in cookies and not signs_in:
        return None
    origin = headers.get("origin") or _origin_of(headers.get("referer", ""))
    if origin and origin != "null":
        host = headers.get("host", "")
        if origin not in allowed and origin.split("://", 1)[-1] != host:
            return f"Origin {origin} may not send cookie-authenticated requests"
    elif origin == "null":
        return "An opaque Origin (null) may not send cookie-authenticated requests"
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    # No content type means no body a form could have sent; a browser sends Origin with it anyway.
    if content_type in ("application/json", ""):
        return None
    token = headers.get(CSRF_HEADER, "")
    cookie = cookies[CSRF_COOKIE].value if CSRF_COOKIE in cookies else ""
    if token and cookie and hmac.compare_digest(token, cookie):
        return None
    return "A cookie-authenticated request needs a JSON body or an X-CSRF-Token header matching the maily_csrf cookie"


def csrf_middleware(allowed: frozenset[str]) -> Any:
    """ASGI middleware factory refusing possible CSRF with 403 problem+json before routing."""

    def factory(app: Any) -> Any:
        async def middleware(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
                reason = csrf_refusal(scope["method"], scope["path"], headers, allowed)
                if reason:
                    body = json.dumps(problem(403, reason, slug="csrf", instance=scope["path"])).encode()
                    await send({"type": "http.response.start", "status": 403,
                                "headers": [(b"content-type", PROBLEM_JSON.encode()),
                                            (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body})
                    return
            await app(scope, receive, send)
        return middleware
    return factory
