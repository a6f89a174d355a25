"""App-wide dependencies: `db_session` and `principal`, and
`authenticate_websocket` for WebSocket handlers.

Resolution order for the caller: `Authorization: Bearer <token>`, then the `maily_session`
cookie, looked up in the server-side `sessions` table (backend/auth/sessions.py) (then, for
WebSockets only, `?token=`). `X-Maily-Tenant` (id or slug) picks one of the
user's tenants; a token is bound to its own tenant.
"""

from __future__ import annotations

from typing import Any, AsyncGenerator

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth import services
from backend.auth.models import AuthSession
from backend.auth.revocation import REFRESH_CODE, REVOKED_CODE
from backend.auth.schemas import Principal
from backend.auth.sessions import SESSION_COOKIE, live_session
from backend.db.models import ApiToken, Membership, Tenant, User
from backend.errors import Forbidden, Unauthorized
from flows.observe import bind_log_ids

TENANT_HEADER = "x-maily-tenant"
_PRINCIPAL_STATE = "maily_principal"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# --- db_session ---------------------------------------------------------------------------

async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One session per request: committed when the handler succeeds, rolled back otherwise."""
    async with state.db.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


# --- principal ----------------------------------------------------------------------------

def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    auth = connection.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def resolve_principal(connection: ASGIConnection[Any, Any, Any, Any], *, query_token: bool = False) -> Principal | None:
    """Who is calling, or None. Raises Forbidden when the tenant header names a tenant the
    caller is not a member of (or, for a token, not the token's tenant)."""
    cached = connection.scope.get("state", {}).get(_PRINCIPAL_STATE)
    if cached is not None:
        return cached
    wanted = connection.headers.get(TENANT_HEADER) or None
    token = _bearer(connection)
    if token is None and query_token:
        token = connection.query_params.get("token")
    db = connection.app.state.db
    # A short session of its own: guards run before handler dependencies exist, and a
    # failed authentication must not leave a request session open.
    async with db.sessionmaker() as s:
        if token is not None:
            p = await services.principal_for_token(s, token)
            await s.commit()
            if p is None:
                raise Unauthorized("the API token is unknown or revoked")
            if wanted and wanted != p.tenant_id:
                tenant = await s.get(Tenant, p.tenant_id)
                if tenant is None or wanted != tenant.slug:
                    raise Forbidden("this API token belongs to another tenant")
        else:
            session = await live_session(s, connection.cookies.get(SESSION_COOKIE))
            await s.commit()   # last_seen_at
            if session is None:
                return None
            user = await s.get(User, session.user_id)
            if user is None:
                return None
            picked = services.pick_membership(await services.memberships_of(s, user.id), wanted or session.tenant_id)
            if picked is None:
                if wanted:
                    raise Forbidden(f"you are not a member of tenant {wanted!r}")
                picked = services.pick_membership(await services.memberships_of(s, user.id), None)
                if picked is None:
                    raise Forbidden("you are not a member of any tenant")
            p = services.principal_of(user, picked[0], session_id=session.public_id)
    if p.read_only and connection.scope.get("type") == "http" and connection.scope.get("method") not in SAFE_METHODS:
        # The one guard for read-only API tokens: every unsafe request, whatever the route.
        raise Forbidden("this API token is read-only: only GET and HEAD requests")
    connection.scope.setdefault("state", {})[_PRINCIPAL_STATE] = p
    bind_log_ids(tenant_id=p.tenant_id, user_id=p.user_id)   # log records of this request carry them
    return p


async def provide_principal(request: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    p = await resolve_principal(request)
    if p is None:
        raise Unauthorized("sign in, or send Authorization: Bearer <API token>")
    return p


async def authenticate_websocket(socket: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    """For WebSocket handlers: token query param, Authorization header, or session cookie.
    None when the caller is anonymous or not allowed (close the socket with 4401/4403)."""
    try:
        return await resolve_principal(socket, query_token=True)
    except (Unauthorized, Forbidden):
        return None


async def socket_refusal(s: AsyncSession, p: Principal) -> tuple[int, str] | None:
    """The second look a socket takes once it is registered for revocation: how to close it when
    the credential or membership it was opened with ended meanwhile (4401), or its role changed
    (4000, reconnect); None when all holds. A revocation committed between the socket's
    authentication and its registration found nothing to close; this check, after the
    registration, sees it (and a later one finds the socket registered)."""
    role = await s.scalar(select(Membership.role).where(Membership.tenant_id == p.tenant_id,
                                                        Membership.user_id == p.user_id))
    if role is None:
        return REVOKED_CODE, "removed from workspace"
    if p.token_id is not None:
        token = await s.get(ApiToken, p.token_id)
        if token is None or token.revoked_at is not None:
            return REVOKED_CODE, "API token revoked"
    elif p.session_id is not None:
        session = await s.scalar(select(AuthSession).where(AuthSession.public_id == p.session_id))
        if session is None or session.revoked_at is not None:
            return REVOKED_CODE, "signed out"
    if role != p.role:
        return REFRESH_CODE, "role changed"
    return None


def dependencies() -> dict[str, Provide]:
    """Registered on the app, so any controller can ask for `principal` or `db_session`."""
    return {
        "db_session": Provide(provide_db_session),
        "principal": Provide(provide_principal),
    }
