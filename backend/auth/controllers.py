"""/api/auth: sign-up, sign in and out, who am I, account, sessions, password reset, API tokens."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.background_tasks import BackgroundTask
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.auth import accounts, services, sessions
from backend.auth.deps import resolve_principal
from backend.auth.ratelimit import client_address, signin_limits
from backend.auth.revocation import revoke
from backend.auth.schemas import (AuthConfigOut, LoginIn, MeOut, MePatchIn, PasswordChangeIn, PasswordResetConfirmIn,
                                  PasswordResetIn, Principal, SessionOut, SessionsOut, SignupIn, SwitchIn, TenantOut,
                                  TokenCreatedOut, TokenCreateIn, TokenOut)
from backend.db.models import User
from backend.email.store import public_url
from backend.errors import BadRequest, Forbidden, NotFound, Unauthorized
from backend.workspaces.services import as_member_of


def _me(user: User, current: tuple, memberships: list) -> MeOut:
    m, _t = current
    return MeOut(user_id=user.id, email=user.email, name=user.name, tenant_id=m.tenant_id, role=m.role,
                 tenants=[TenantOut(id=t.id, name=t.name, slug=t.slug, tier=t.tier, role=mm.role) for mm, t in memberships],
                 is_admin=bool(user.is_admin))


async def me_of(s: AsyncSession, user_id: str, tenant_id: str) -> MeOut:
    """MeOut of a user with tenant_id current (their first workspace when they left it)."""
    user = await s.get(User, user_id)
    memberships = await services.memberships_of(s, user_id)
    current = next((mt for mt in memberships if mt[0].tenant_id == tenant_id), memberships[0])
    return _me(user, current, memberships)


def _token_out(row) -> TokenOut:
    return TokenOut(id=row.id, name=row.name, prefix=row.prefix, tenant_id=row.tenant_id,
                    read_only=bool(row.read_only), created_at=row.created_at,
                    last_used_at=row.last_used_at, revoked_at=row.revoked_at)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @get("/config", operation_id="authConfig")
    async def config(self, request: Request, db_session: AsyncSession) -> AuthConfigOut:
        """How accounts are made here (MAILY_SIGNUP) and whether nobody has signed up yet (no auth)."""
        return AuthConfigOut(signup=request.app.state.settings.signup,
                             first_user=await accounts.is_first_user(db_session))

    @post("/signup", operation_id="signup", status_code=201)
    async def signup(self, request: Request, data: SignupIn, db_session: AsyncSession) -> Response[MeOut]:
        """Create an account and its own workspace (owner) and sign in, per MAILY_SIGNUP; the first
        user of an empty instance is always allowed and becomes the instance admin."""
        await signin_limits(request.app.state).hit("signup", data.email, client_address(request))
        user, tenant, membership = await accounts.signup(db_session, data, request.app.state.settings.signup)
        cookies = await sessions.start_session(request, db_session, user.id, tenant.id)
        return Response(await me_of(db_session, user.id, tenant.id), status_code=201, cookies=cookies)

    @post("/login", operation_id="login", status_code=200)
    async def login(self, request: Request, data: LoginIn, db_session: AsyncSession) -> Response[MeOut]:
        """Check email and password and start a new browser session (cookie)."""
        await signin_limits(request.app.state).hit("login", data.email, client_address(request))
        user = await services.check_password(db_session, data.email, data.password)
        if user is None:
            raise Unauthorized("wrong email or password")
        memberships = await services.memberships_of(db_session, user.id)
        current = services.pick_membership(memberships, data.tenant)
        if current is None:
            raise Forbidden("you are not a member of that tenant" if data.tenant else "you are not a member of any tenant")
        cookies = await sessions.start_session(request, db_session, user.id, current[0].tenant_id)
        await record(db_session, services.principal_of(user, current[0]), "auth.login", "user", user.id)
        return Response(_me(user, current, memberships), cookies=cookies)

    @post("/logout", operation_id="logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request, db_session: AsyncSession) -> Response[None]:
        """End the browser session: the cookie stops working, its sockets close."""
        try:
            p = await resolve_principal(request)
        except Forbidden:   # a session whose workspaces are gone still signs out
            p = None
        if p is not None and p.session_id:
            await record(db_session, p, "auth.logout", "session", p.session_id)
        await sessions.end_session(request, db_session)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=sessions.cleared_cookies(request))

    @get("/me", operation_id="me")
    async def me(self, principal: Principal, db_session: AsyncSession) -> MeOut:
        """The caller, the current tenant and role, and every tenant they belong to."""
        return await me_of(db_session, principal.user_id, principal.tenant_id)

    @patch("/me", operation_id="updateMe")
    async def update_me(self, data: MePatchIn, principal: Principal, db_session: AsyncSession) -> MeOut:
        """Change the caller's display name."""
        user = await db_session.get(User, principal.user_id)
        user.name = data.name
        return await me_of(db_session, principal.user_id, principal.tenant_id)

    @post("/password", operation_id="changePassword",
          status_code=HTTP_204_NO_CONTENT)
    async def change_password(self, request: Request, data: PasswordChangeIn, principal: Principal, db_session: AsyncSession) -> None:
        """Change the caller's password; every other session of theirs ends (this one stays)."""
        await signin_limits(request.app.state).hit("password", principal.email, client_address(request))
        await accounts.change_password(db_session, principal, data.current_password, data.new_password)
        await sessions.revoke_sessions(request.app.state, db_session, principal.user_id, keep=principal.session_id,
                                       reason="password changed")

    @post("/password-reset", operation_id="requestPasswordReset",
          status_code=HTTP_202_ACCEPTED)
    async def request_password_reset(self, data: PasswordResetIn, request: Request) -> Response[None]:
        """Mail a single-use reset link if the address has an account; always 202, in the same time."""
        await signin_limits(request.app.state).hit("reset", data.email, client_address(request))
        state = request.app.state
        task = BackgroundTask(accounts.request_reset, state.db, state.mailer, public_url(state.settings),
                              data.email, accounts.new_reset_token())
        return Response(b"", status_code=HTTP_202_ACCEPTED, background=task)

    @post("/password-reset/confirm", operation_id="confirmPasswordReset", status_code=HTTP_204_NO_CONTENT)
    async def confirm_password_reset(self, request: Request, data: PasswordResetConfirmIn, db_session: AsyncSession) -> None:
        """Set a new password with a reset link's token; every session of the user ends.
        404 for an unknown token, 410 for a used or expired one."""
        user = await accounts.confirm_reset(db_session, data.token, data.password)
        await sessions.revoke_sessions(request.app.state, db_session, user.id, reason="password reset")

    @get("/sessions", operation_id="listSessions")
    async def list_sessions(self, principal: Principal, db_session: AsyncSession) -> SessionsOut:
        """The caller's live browser sessions; `current` marks the one making this request."""
        rows = await sessions.sessions_of(db_session, principal.user_id)
        return SessionsOut(items=[SessionOut(id=r.public_id, created_at=r.created_at, last_seen_at=r.last_seen_at,
                                             user_agent=r.user_agent, ip=r.ip, current=r.public_id == principal.session_id)
                                  for r in rows])

    @delete("/sessions/{session_id:str}", operation_id="revokeSession", status_code=HTTP_204_NO_CONTENT)
    async def revoke_session(self, request: Request, session_id: str, principal: Principal,
                             db_session: AsyncSession) -> Response[None]:
        """End one of the caller's sessions at once; its sockets close with 4401."""
        if not await sessions.revoke_sessions(request.app.state, db_session, principal.user_id, only=session_id,
                                              reason="session revoked"):
            raise NotFound(f"no session {session_id}")
        await record(db_session, principal, "session.revoke", "session", session_id)
        cookies = sessions.cleared_cookies(request) if session_id == principal.session_id else []
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=cookies)

    @post("/switch", operation_id="switchWorkspace", status_code=200)
    async def switch(self, data: SwitchIn, principal: Principal, db_session: AsyncSession) -> MeOut:
        """Make another of the caller's workspaces (id or slug) current for this browser session."""
        if principal.session_id is None:
            raise BadRequest("an API token is bound to its workspace; send X-Maily-Tenant with a session instead")
        picked = services.pick_membership(await services.memberships_of(db_session, principal.user_id), data.workspace)
        if picked is None:
            raise NotFound(f"no workspace {data.workspace}")
        await sessions.set_current_tenant(db_session, principal.session_id, picked[0].tenant_id)
        moved = as_member_of(principal, picked[0].tenant_id, picked[0].role)
        await record(db_session, moved, "workspace.switch", "workspace", picked[0].tenant_id,
                     {"from": principal.tenant_id})
        return await me_of(db_session, principal.user_id, picked[0].tenant_id)

    @post("/tokens", operation_id="createToken")
    async def create_token(self, data: TokenCreateIn, principal: Principal, db_session: AsyncSession) -> TokenCreatedOut:
        """Create an API token bound to the current tenant; the token is returned only here."""
        row, token = await services.create_api_token(db_session, principal.tenant_id, principal.user_id, data.name,
                                                     read_only=data.read_only)
        await record(db_session, principal, "token.create", "api_token", row.id, {"name": data.name, "read_only": data.read_only})
        return TokenCreatedOut(**_token_out(row).model_dump(), token=token)

    @get("/tokens", operation_id="listTokens")
    async def list_tokens(self, principal: Principal, db_session: AsyncSession) -> list[TokenOut]:
        """The caller's API tokens in the current tenant (prefixes only, never the tokens)."""
        return [_token_out(r) for r in await services.list_tokens(db_session, principal)]

    @delete("/tokens/{token_id:str}", operation_id="revokeToken", status_code=HTTP_204_NO_CONTENT)
    async def revoke_token(self, request: Request, token_id: str, principal: Principal, db_session: AsyncSession) -> None:
        """Revoke one of the caller's tokens; it answers 401 from then on."""
        if not await services.revoke_token(db_session, principal, token_id):
            raise NotFound(f"no API token {token_id}")
        await record(db_session, principal, "token.revoke", "api_token", token_id)
        await db_session.commit()  # revoked in the database before its sockets close
        await revoke(request.app.state, token_id=token_id, reason="API token revoked")
