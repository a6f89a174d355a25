"""Server-side browser sessions (issue 12 item 6).

The `maily_session` cookie holds only an opaque 256-bit token; the `sessions` table keeps its
sha256 with the user, the current workspace, when it was created and last seen, and whether it
was revoked. So logout, a password change or `DELETE /api/auth/sessions/{id}` end a session at
once, and a captured cookie stops working. Every sign-in starts a new session (a new id), and
with it a fresh `maily_csrf` double-submit cookie (backend/auth/csrf.py).

Handlers that sign someone in do:
    cookies = await start_session(request, db_session, user.id, tenant.id)
    return Response(body, status_code=..., cookies=cookies)
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.csrf import CSRF_COOKIE
from backend.auth.models import AuthSession
from backend.auth.revocation import revoke
from backend.auth.services import hash_token
from backend.db.models import looks_like_id, utcnow

SESSION_COOKIE = "maily_session"
SESSION_TTL = timedelta(days=14)
# last_seen_at is written at most this often: a write per request would be a row update per request.
SEEN_RESOLUTION = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 100


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def cookie_is_secure(request: Request[Any, Any, Any]) -> bool:
    """Secure behind an https public address, or when this request itself arrived over https."""
    settings = request.app.state.settings
    return settings.public_url.lower().startswith("https://") or request.url.scheme in ("https", "wss")


def _cookies(request: Request[Any, Any, Any], session_token: str, csrf_token: str, max_age: int) -> list[Cookie]:
    secure = cookie_is_secure(request)
    return [
        Cookie(key=SESSION_COOKIE, value=session_token, path="/", httponly=True, samesite="lax", secure=secure,
               max_age=max_age),
        # Read by the editor's fetch wrapper and echoed in X-CSRF-Token: not HttpOnly on purpose.
        Cookie(key=CSRF_COOKIE, value=csrf_token, path="/", httponly=False, samesite="lax", secure=secure,
               max_age=max_age),
    ]


def cleared_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    """Cookies that make the browser forget its session."""
    return _cookies(request, "", "", 0)


def token_hash_of(token: str | None) -> str | None:
    """The `sessions.id` of a cookie value, or None for an absent or malformed one."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return hash_token(token)


async def start_session(request: Request[Any, Any, Any], db: AsyncSession, user_id: str,
                        tenant_id: str) -> list[Cookie]:
    """A new session for user_id in tenant_id; returns the cookies to set on the response.
    A session the request still carried is ended first (the id changes at every sign-in)."""
    await end_session(request, db)
    # Ended and expired sessions of this user are of no further use: each sign-in sweeps them.
    await db.execute(delete(AuthSession).where(AuthSession.user_id == user_id,
                                               (AuthSession.revoked_at.is_not(None)) | (AuthSession.expires_at <= utcnow())))
    token = secrets.token_urlsafe(32)   # 256 bits
    client = request.client.host if request.client else ""
    db.add(AuthSession(id=hash_token(token), user_id=user_id, tenant_id=tenant_id, expires_at=utcnow() + SESSION_TTL,
                       user_agent=request.headers.get("user-agent", "")[:400], ip=client[:64]))
    await db.flush()
    return _cookies(request, token, secrets.token_urlsafe(32), int(SESSION_TTL.total_seconds()))


async def end_session(request: Request[Any, Any, Any], db: AsyncSession) -> str | None:
    """Revoke the session of the request's cookie (committed, then its sockets close with 4401);
    its public id, or None when the request carried no live session."""
    key = token_hash_of(request.cookies.get(SESSION_COOKIE))
    if key is None:
        return None
    row = await db.get(AuthSession, key)
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at = utcnow()
    await db.commit()
    await revoke(request.app.state, session_id=row.public_id, reason="signed out")
    return row.public_id


async def live_session(db: AsyncSession, token: str | None) -> AuthSession | None:
    """The unrevoked, unexpired session of a cookie value; touches last_seen_at (at most once a minute)."""
    key = token_hash_of(token)
    if key is None:
        return None
    row = await db.get(AuthSession, key)
    now = utcnow()
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= now:
        return None
    if _aware(row.last_seen_at) < now - SEEN_RESOLUTION:
        await db.execute(update(AuthSession).where(AuthSession.id == key).values(last_seen_at=now))
    return row


async def sessions_of(db: AsyncSession, user_id: str) -> list[AuthSession]:
    """The user's live sessions, newest first."""
    rows = await db.scalars(select(AuthSession).where(AuthSession.user_id == user_id,
                                                      AuthSession.revoked_at.is_(None),
                                                      AuthSession.expires_at > utcnow())
                            .order_by(AuthSession.created_at.desc()))
    return list(rows)


async def set_current_tenant(db: AsyncSession, public_id: str, tenant_id: str) -> None:
    await db.execute(update(AuthSession).where(AuthSession.public_id == public_id).values(tenant_id=tenant_id))


async def revoke_sessions(app_state: Any, db: AsyncSession, user_id: str, *, only: str | None = None,
                          keep: str | None = None, reason: str = "session ended") -> list[str]:
    """Revoke the user's live sessions (just `only`, or all but `keep`; public ids), commit, and
    close their open sockets with 4401. Returns the public ids revoked."""
    if only is not None and not looks_like_id(only):
        return []
    rows = [r for r in await sessions_of(db, user_id)
            if (only is None or r.public_id == only) and r.public_id != keep]
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    await db.commit()   # revoked in the database before the sockets close, so a reconnect fails
    for row in rows:
        await revoke(app_state, session_id=row.public_id, reason=reason)
    return [r.public_id for r in rows]
