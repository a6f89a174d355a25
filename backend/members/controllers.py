"""/api/members (owners manage, every member lists) and /api/invitations/{token} (no auth)."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth import services as auth_services
from backend.auth.deps import resolve_principal
from backend.auth.guards import requires_owner
from backend.auth.ratelimit import client_address, signin_limits
from backend.auth.revocation import REFRESH_CODE, revoke
from backend.auth.schemas import Principal
from backend.auth.sessions import start_session
from backend.db.models import Tenant
from backend.email.store import public_url, system_sender
from backend.members import services
from backend.members.models import Invitation
from backend.members.schemas import (AcceptIn, AcceptOut, InvitationInfoOut, InvitationLinkOut, InvitationOut,
                                     InvitationsOut, InviteIn, MemberOut, MembersOut, RoleIn)
from nodes.email.mime import Outgoing

log = logging.getLogger("maily.members")


def _public_base(request: Request) -> str:
    return request.app.state.settings.public_url or str(request.base_url)


async def _mail_invitation(request: Request, db: AsyncSession, inv: Invitation, url: str, inviter: Principal) -> str:
    """Through the tenant's mail provider (the built-in outbox by default); the link is shown
    to the owner anyway, so a mail failure is reported, not fatal."""
    mailer = getattr(request.app.state, "mailer", None)
    if mailer is None:
        return "no mailer"
    tenant = await db.get(Tenant, inv.tenant_id)
    text = (f"{inviter.name or inviter.email} invited you to the Maily Flow workspace "
            f"\"{tenant.name if tenant else ''}\" as {inv.role}.\n\n"
            f"Join here (the link works once, until {inv.expires_at:%Y-%m-%d %H:%M} UTC):\n{url}\n")
    try:
        # The same From as password-reset mail; an address the mail checks refuse is a failed mail, not a 500.
        msg = Outgoing(key=f"invitation:{inv.id}:{inv.token_hash[:16]}",
                       sender=system_sender(public_url(request.app.state.settings)),
                       to=inv.email, subject="You are invited to a Maily Flow workspace", text=text)
        results = await mailer.send_batch(inv.tenant_id, "invitation", inv.id, [msg])
        return results[0]["status"]
    except Exception as exc:  # noqa: BLE001 - an unmailable address or provider trouble: the owner still has the link
        log.warning("invitation mail failed: %s", type(exc).__name__)
        return "failed"


def _link(request: Request, inv: Invitation, token: str) -> InvitationLinkOut:
    return InvitationLinkOut(id=inv.id, email=inv.email, role=inv.role, expires_at=inv.expires_at,
                             url=services.invite_url(_public_base(request), token))


class MemberController(Controller):
    path = "/api/members"
    tags = ["members"]

    @get("/", operation_id="listMembers")
    async def list_members(self, principal: Principal, db_session: AsyncSession) -> MembersOut:
        """Every member of the current workspace with role and last activity."""
        return MembersOut(items=[MemberOut(**m) for m in await services.list_members(db_session, principal.tenant_id)])

    @patch("/{user_id:str}", operation_id="changeMemberRole", guards=[requires_owner])
    async def change_role(self, request: Request, data: RoleIn, user_id: str, principal: Principal, db_session: AsyncSession) -> MemberOut:
        """Change a member's role (owner only); the last owner cannot be demoted (409). Their open
        co-editing sockets close with 4000 and reconnect with the new role."""
        before, after = await services.change_role(db_session, principal, user_id, data.role)
        if before != data.role:
            await db_session.commit()   # the new role is what their reconnect finds
            await revoke(request.app.state, user_id=user_id, tenant_id=principal.tenant_id, kind="collab",
                         reason="role changed", code=REFRESH_CODE)
        return MemberOut(**after)

    @delete("/{user_id:str}", operation_id="removeMember", guards=[requires_owner], status_code=HTTP_204_NO_CONTENT)
    async def remove(self, request: Request, user_id: str, principal: Principal, db_session: AsyncSession) -> None:
        """Remove a member (owner only): their tokens for this workspace are revoked and their sockets close."""
        await services.remove_member(db_session, principal, user_id)
        await db_session.commit()   # gone in the database before their sockets close
        await revoke(request.app.state, user_id=user_id, tenant_id=principal.tenant_id, reason="removed from workspace")

    @get("/invitations", operation_id="listInvitations", guards=[requires_owner])
    async def list_invitations(self, principal: Principal, db_session: AsyncSession) -> InvitationsOut:
        """Pending and expired invitations (not accepted, not revoked), newest first."""
        rows = await services.list_invitations(db_session, principal.tenant_id)
        return InvitationsOut(items=[InvitationOut(id=r.id, email=r.email, role=r.role, expires_at=r.expires_at,
                                                   created_at=r.created_at, invited_by=r.invited_by) for r in rows])

    @post("/invitations", operation_id="createInvitation", guards=[requires_owner])
    async def invite(self, request: Request, data: InviteIn, principal: Principal, db_session: AsyncSession) -> InvitationLinkOut:
        """Invite an email with a role and mail the link; the link (`url`) is shown only here."""
        inv, token = await services.create_invitation(db_session, principal, data.email, data.role,
                                                      request.app.state.settings.invitation_ttl_days)
        await db_session.commit()
        out = _link(request, inv, token)
        out.mail_status = await _mail_invitation(request, db_session, inv, out.url, principal)
        return out

    @post("/invitations/{invitation_id:str}/resend", operation_id="resendInvitation", guards=[requires_owner], status_code=200)
    async def resend(self, request: Request, invitation_id: str, principal: Principal, db_session: AsyncSession) -> InvitationLinkOut:
        """A new link (and expiry) for a pending invitation, mailed again; the old link stops working."""
        inv, token = await services.resend_invitation(db_session, principal, invitation_id,
                                                      request.app.state.settings.invitation_ttl_days)
        await db_session.commit()
        out = _link(request, inv, token)
        out.mail_status = await _mail_invitation(request, db_session, inv, out.url, principal)
        return out

    @delete("/invitations/{invitation_id:str}", operation_id="revokeInvitation", guards=[requires_owner],
            status_code=HTTP_204_NO_CONTENT)
    async def revoke_invitation(self, invitation_id: str, principal: Principal, db_session: AsyncSession) -> None:
        """Revoke a pending invitation: its link answers 404 from then on."""
        await services.revoke_invitation(db_session, principal, invitation_id)


class InvitationController(Controller):
    path = "/api/invitations"
    tags = ["members"]

    @get("/{token:str}", operation_id="getInvitation", security=[])
    async def show(self, token: str, db_session: AsyncSession) -> InvitationInfoOut:
        """Who invited you to which workspace, with which role (no sign-in needed)."""
        f = await services.find_by_token(db_session, token)
        return InvitationInfoOut(workspace=f.tenant.name, inviter=(f.inviter.name or f.inviter.email) if f.inviter else "",
                                 email=f.invitation.email, role=f.invitation.role, expires_at=f.invitation.expires_at,
                                 has_account=await auth_services.user_by_email(db_session, f.invitation.email) is not None)

    @post("/{token:str}/accept", operation_id="acceptInvitation", security=[])
    async def accept(self, request: Request, data: AcceptIn, token: str, db_session: AsyncSession) -> Response[AcceptOut]:
        """Join the workspace: 201 with a new account, 200 with an existing one; either way signed in."""
        if data.password:
            # A password here may be a guess at an existing account's: it counts like a sign-in.
            found = await services.find_by_token(db_session, token)
            await signin_limits(request.app.state).hit("login", found.invitation.email, client_address(request))
        try:
            caller = await resolve_principal(request)
        except Exception:  # noqa: BLE001 - a stale cookie or token: accept as anonymous
            caller = None
        user, inv, created = await services.accept(db_session, token, caller, data.name, data.password,
                                                   request.app.state.settings.signup)
        cookies: list[Any] = await start_session(request, db_session, user.id, inv.tenant_id)
        return Response(AcceptOut(user_id=user.id, tenant_id=inv.tenant_id, role=inv.role, created=created),
                        status_code=201 if created else 200, cookies=cookies)


ROUTES = [MemberController, InvitationController]
