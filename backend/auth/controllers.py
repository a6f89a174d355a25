"""/api/auth: sign in and out, who am I, API tokens."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth import services
from backend.auth.revocation import revoke
from backend.auth.schemas import LoginIn, MeOut, Principal, TenantOut, TokenCreatedOut, TokenCreateIn, TokenOut
from backend.errors import Forbidden, NotFound, Unauthorized, json_body, read_body


def _me(user_id: str, email: str, name: str, current: tuple, memberships: list) -> MeOut:
    m, _t = current
    return MeOut(user_id=user_id, email=email, name=name, tenant_id=m.tenant_id, role=m.role,
                 tenants=[TenantOut(id=t.id, name=t.name, slug=t.slug, tier=t.tier, role=mm.role) for mm, t in memberships])


def _token_out(row) -> TokenOut:
    return TokenOut(id=row.id, name=row.name, prefix=row.prefix, tenant_id=row.tenant_id, created_at=row.created_at,
                    last_used_at=row.last_used_at, revoked_at=row.revoked_at)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/login", operation_id="login", operation_class=json_body(LoginIn), status_code=200)
    async def login(self, request: Request, db_session: AsyncSession) -> MeOut:
        """Check email and password and start a browser session (cookie)."""
        body = await read_body(request, LoginIn)
        user = await services.check_password(db_session, body.email, body.password)
        if user is None:
            raise Unauthorized("wrong email or password")
        memberships = await services.memberships_of(db_session, user.id)
        current = services.pick_membership(memberships, body.tenant)
        if current is None:
            raise Forbidden("you are not a member of that tenant" if body.tenant else "you are not a member of any tenant")
        request.set_session({"uid": user.id, "tid": current[0].tenant_id})
        return _me(user.id, user.email, user.name, current, memberships)

    @post("/logout", operation_id="logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request) -> None:
        """End the browser session."""
        request.clear_session()

    @get("/me", operation_id="me")
    async def me(self, principal: Principal, db_session: AsyncSession) -> MeOut:
        """The caller, the current tenant and role, and every tenant they belong to."""
        memberships = await services.memberships_of(db_session, principal.user_id)
        current = next((mt for mt in memberships if mt[0].tenant_id == principal.tenant_id), memberships[0])
        return _me(principal.user_id, principal.email, principal.name, current, memberships)

    @post("/tokens", operation_id="createToken", operation_class=json_body(TokenCreateIn))
    async def create_token(self, request: Request, principal: Principal, db_session: AsyncSession) -> TokenCreatedOut:
        """Create an API token bound to the current tenant; the token is returned only here."""
        body = await read_body(request, TokenCreateIn)
        row, token = await services.create_api_token(db_session, principal.tenant_id, principal.user_id, body.name)
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
        await db_session.commit()  # revoked in the database before its sockets close
        await revoke(request.app.state, token_id=token_id, reason="API token revoked")
