"""Members of a tenant and invitations to join it (issue 13).

Members: list with last activity, change a role, remove; the last owner can be neither
demoted nor removed. Invitations: a 128-bit random token (secrets.token_urlsafe(16)) of
which only the sha256 is stored; found by its hash, then compared in constant time.
An email that is already a member, or has a pending invitation, gets 409 (resend instead).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.models import AuditEvent
from backend.audit.services import record
from backend.auth import services as auth
from backend.auth.accounts import normalise_email
from backend.auth.models import AuthSession
from backend.auth.passwords import check_new_password
from backend.auth.schemas import Principal
from backend.db.models import ApiToken, Membership, Tenant, User, utcnow
from backend.db.scoped import find_member, get_scoped
from backend.members.models import Invitation
from backend.errors import Conflict, Forbidden, Gone, NotFound, Unauthorized, Unprocessable

ROLES = ("owner", "editor", "viewer")


def _aware(dt: datetime | None) -> datetime | None:
    # a value set in Python before it was stored may be naive
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=timezone.utc)


# --- members -------------------------------------------------------------------------------

async def list_members(s: AsyncSession, tenant_id: str) -> list[dict]:
    rows = (await s.execute(
        sa.select(Membership, User).join(User, User.id == Membership.user_id)
        .where(Membership.tenant_id == tenant_id).order_by(Membership.created_at, Membership.id))).all()
    # Last activity: the latest of an API token's use, a browser session's (current workspace:
    # this one; last_seen_at is kept to the minute) and an audited action in this tenant.
    session_use = dict((await s.execute(
        sa.select(AuthSession.user_id, sa.func.max(AuthSession.last_seen_at))
        .where(AuthSession.tenant_id == tenant_id).group_by(AuthSession.user_id))).all())
    token_use = dict((await s.execute(
        sa.select(ApiToken.user_id, sa.func.max(ApiToken.last_used_at))
        .where(ApiToken.tenant_id == tenant_id).group_by(ApiToken.user_id))).all())
    actions = dict((await s.execute(
        sa.select(AuditEvent.actor_id, sa.func.max(AuditEvent.at))
        .where(AuditEvent.tenant_id == tenant_id, AuditEvent.actor_id.is_not(None))
        .group_by(AuditEvent.actor_id))).all())
    out = []
    for m, u in rows:
        seen = [_aware(d) for d in (token_use.get(u.id), session_use.get(u.id), actions.get(u.id)) if d is not None]
        out.append({"user_id": u.id, "email": u.email, "name": u.name, "role": m.role,
                    "last_active_at": max(seen) if seen else None})
    return out


async def _membership(s: AsyncSession, tenant_id: str, user_id: str) -> Membership:
    m = await find_member(s, tenant_id, user_id)
    if m is None:
        raise NotFound(f"no member {user_id} in this workspace")
    return m


async def _keep_an_owner(s: AsyncSession, m: Membership) -> None:
    """409 when m is the tenant's last owner. FOR UPDATE (PostgreSQL) serialises two owners
    demoting each other at once."""
    if m.role != "owner":
        return
    owners = (await s.scalars(sa.select(Membership.id).where(Membership.tenant_id == m.tenant_id,
                                                               Membership.role == "owner").with_for_update())).all()
    if len(owners) <= 1:
        raise Conflict("the last owner of a workspace cannot be demoted or removed: make someone else owner first")


async def change_role(s: AsyncSession, p: Principal, user_id: str, role: str) -> tuple[str, dict]:
    """(the role before, the member as listed now)."""
    m = await _membership(s, p.tenant_id, user_id)
    before = m.role
    if m.role != role:
        if role != "owner":
            await _keep_an_owner(s, m)
        await record(s, p, "member.role_change", "user", user_id, {"from": m.role, "to": role})
        m.role = role
        await s.flush()
    return before, next(x for x in await list_members(s, p.tenant_id) if x["user_id"] == user_id)


async def remove_member(s: AsyncSession, p: Principal, user_id: str) -> None:
    """Delete the membership and revoke the person's API tokens and browser sessions in this
    tenant (a session in another of their workspaces stays); the caller closes their sockets
    after the commit."""
    m = await _membership(s, p.tenant_id, user_id)
    await _keep_an_owner(s, m)
    tokens = await s.execute(sa.update(ApiToken).where(ApiToken.tenant_id == p.tenant_id, ApiToken.user_id == user_id,
                                                       ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    await s.execute(sa.update(AuthSession).where(AuthSession.tenant_id == p.tenant_id, AuthSession.user_id == user_id,
                                                 AuthSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    await s.delete(m)
    await record(s, p, "member.remove", "user", user_id, {"role": m.role, "tokens_revoked": tokens.rowcount})


# --- invitations ---------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_url(public_base: str, token: str) -> str:
    return f"{public_base.rstrip('/')}/invite/{token}"


def _new_token(inv: Invitation, ttl_days: int) -> str:
    token = secrets.token_urlsafe(16)   # 128 bits
    inv.token_hash = _hash(token)
    inv.expires_at = utcnow() + timedelta(days=ttl_days)
    return token


def _pending(inv: Invitation) -> bool:
    return inv.accepted_at is None and inv.revoked_at is None and _aware(inv.expires_at) > utcnow()


async def list_invitations(s: AsyncSession, tenant_id: str) -> list[Invitation]:
    rows = await s.scalars(sa.select(Invitation).where(Invitation.tenant_id == tenant_id,
                                                         Invitation.accepted_at.is_(None),
                                                         Invitation.revoked_at.is_(None))
                           .order_by(Invitation.created_at.desc()))
    return list(rows)


async def create_invitation(s: AsyncSession, p: Principal, email: str, role: str, ttl_days: int) -> tuple[Invitation, str]:
    if role == "owner" and p.role != "owner":
        raise Forbidden("only an owner may invite an owner")
    email = normalise_email(email)   # the same check as sign-up: the address must be able to sign in later
    user = await auth.user_by_email(s, email)
    if user is not None and await find_member(s, p.tenant_id, user.id):
        raise Conflict(f"{email} is already a member of this workspace", field="email")
    for inv in await s.scalars(sa.select(Invitation).where(Invitation.tenant_id == p.tenant_id, Invitation.email == email)):
        if _pending(inv):
            raise Conflict(f"{email} has a pending invitation: resend or revoke it", field="email",
                           invitation_id=inv.id)
    inv = Invitation(tenant_id=p.tenant_id, email=email, role=role, invited_by=p.user_id)
    token = _new_token(inv, ttl_days)
    s.add(inv)
    await s.flush()
    await record(s, p, "invitation.create", "invitation", inv.id, {"email": email, "role": role})
    return inv, token


async def _own_invitation(s: AsyncSession, p: Principal, invitation_id: str) -> Invitation:
    return await get_scoped(s, Invitation, p.tenant_id, invitation_id, "invitation")


async def revoke_invitation(s: AsyncSession, p: Principal, invitation_id: str) -> None:
    inv = await _own_invitation(s, p, invitation_id)
    if inv.accepted_at is not None:
        raise Conflict("this invitation was accepted already: remove the member instead")
    if inv.revoked_at is None:
        inv.revoked_at = utcnow()
        await record(s, p, "invitation.revoke", "invitation", inv.id, {"email": inv.email})


async def resend_invitation(s: AsyncSession, p: Principal, invitation_id: str, ttl_days: int) -> tuple[Invitation, str]:
    """A new token and expiry; the old link stops working (its hash is overwritten)."""
    inv = await _own_invitation(s, p, invitation_id)
    if inv.accepted_at is not None or inv.revoked_at is not None:
        raise Conflict("this invitation was accepted or revoked: invite again")
    for other in await s.scalars(sa.select(Invitation).where(Invitation.tenant_id == p.tenant_id,
                                                             Invitation.email == inv.email, Invitation.id != inv.id)):
        if _pending(other):   # an expired invitation resent beside a newer one: one live link per address
            raise Conflict(f"{inv.email} has another pending invitation: resend or revoke that one", field="email",
                           invitation_id=other.id)
    token = _new_token(inv, ttl_days)
    await record(s, p, "invitation.resend", "invitation", inv.id, {"email": inv.email})
    return inv, token


@dataclass
class Found:
    invitation: Invitation
    tenant: Tenant
    inviter: User | None


async def find_by_token(s: AsyncSession, token: str) -> Found:
    """The invitation a link names: 404 unknown or revoked, 409 used, 410 expired."""
    digest = _hash(token)
    inv = await s.scalar(sa.select(Invitation).where(Invitation.token_hash == digest)) if len(token) <= 100 else None
    if inv is None or not hmac.compare_digest(inv.token_hash, digest) or inv.revoked_at is not None:
        raise NotFound("this invitation link is unknown or was revoked")
    if inv.accepted_at is not None:
        raise Conflict("this invitation was used already")
    if _aware(inv.expires_at) <= utcnow():
        raise Gone("this invitation has expired: ask for a new one")
    tenant = await s.get(Tenant, inv.tenant_id)
    inviter = await s.get(User, inv.invited_by) if inv.invited_by else None
    return Found(inv, tenant, inviter)


async def accept(s: AsyncSession, token: str, caller: Principal | None, name: str | None,
                 password: str | None, signup: str = "invite") -> tuple[User, Invitation, bool]:
    """Join the invited tenant: (user, invitation, created). A new email creates the account
    (password required and checked; not when MAILY_SIGNUP is closed: 403); an existing account
    must be the caller or give its password."""
    found = await find_by_token(s, token)
    inv = found.invitation
    user = await auth.user_by_email(s, inv.email)
    created = user is None
    if user is None:
        if signup == "closed":
            raise Forbidden("sign-up is closed on this instance: only an existing account can accept this invitation")
        if not password:
            raise Unprocessable("password: a new account needs a password", field="password", pointer="/password")
        check_new_password(password)
        try:
            async with s.begin_nested():
                user = await auth.create_user(s, inv.email, password, name=(name or "").strip()[:200])
        except IntegrityError:   # the same address signed up (or accepted) a moment ago
            raise Conflict("this invitation was used already") from None
    elif not (caller is not None and caller.user_id == user.id) \
            and not (password and auth.verify_password(password, user.password_hash)):
        raise Unauthorized(f"sign in as {inv.email}, or send that account's password", field="password")
    # Claim the invitation: only one accept can flip accepted_at; the loser gets 409.
    # (Not revoked and still this token either: a revoke or resend since the lookup wins.)
    claimed = await s.execute(sa.update(Invitation).where(Invitation.id == inv.id, Invitation.accepted_at.is_(None),
                                                          Invitation.revoked_at.is_(None),
                                                          Invitation.token_hash == inv.token_hash)
                              .values(accepted_at=utcnow(), accepted_by=user.id))
    if claimed.rowcount != 1:
        raise Conflict("this invitation was used already")
    try:
        async with s.begin_nested():
            await auth.add_member(s, inv.tenant_id, user.id, inv.role)
    except IntegrityError:
        raise Conflict(f"{inv.email} is already a member of this workspace") from None
    member = await find_member(s, inv.tenant_id, user.id)
    await record(s, auth.principal_of(user, member), "invitation.accept", "invitation", inv.id,
                 {"email": inv.email, "role": inv.role, "new_account": created})
    return user, inv, created


