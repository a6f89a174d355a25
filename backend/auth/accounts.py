"""Accounts: sign-up, password change, password reset by mail (issue 13).

Reset links are `{public base}/reset/{token}`: a 128-bit random token of which only the
sha256 is stored, single use, valid one hour. Requesting one answers 202 at once whether or
not the email has an account: the lookup, the row and the mail happen in a background task
after the response, so the answer's timing says nothing about the address.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import record
from backend.auth import services
from backend.auth.models import PasswordReset
from backend.auth.passwords import check_new_password
from backend.auth.schemas import Principal, SignupIn
from backend.db.models import Membership, Tenant, User, utcnow
from backend.email.store import system_sender
from backend.errors import Conflict, Forbidden, Gone, NotFound, Unprocessable
from nodes.email.mime import Outgoing

log = logging.getLogger("maily.auth")

RESET_TTL = timedelta(hours=1)
_SIGNUP_LOCK = 0x6D61696C79   # "maily": the advisory lock id of sign-up


def normalise_email(email: str) -> str:
    """The lower-cased address, or 422 naming `email`. Deliverability is not checked (no DNS)."""
    try:
        return validate_email(email.strip(), check_deliverability=False, test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise Unprocessable(f"email: {exc}", field="email", pointer="/email") from None


async def is_first_user(s: AsyncSession) -> bool:
    return (await s.scalar(select(func.count()).select_from(User))) == 0


async def signup(s: AsyncSession, body: SignupIn, mode: str) -> tuple[User, Tenant, Membership]:
    """A user, a workspace they own and their membership, per MAILY_SIGNUP; the very first
    user of an instance is always allowed and becomes its admin."""
    # Two visitors signing up at once on an empty instance must not both be "the first":
    # signups queue on this lock until the transaction ends.
    await s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SIGNUP_LOCK})
    first = await is_first_user(s)
    if not first and mode != "open":
        raise Forbidden("sign-up is by invitation only: ask a workspace owner for an invitation"
                        if mode == "invite" else "sign-up is closed on this instance")
    email = normalise_email(body.email)
    check_new_password(body.password)
    if await services.user_by_email(s, email) is not None:
        raise Conflict("an account with this email exists: sign in instead", field="email")
    tenant = await services.create_tenant(s, body.workspace, await services.unique_slug(s, body.workspace))
    user = await services.create_user(s, email, body.password, name=body.name)
    user.is_admin = first
    membership = await services.add_member(s, tenant.id, user.id, "owner")
    actor = services.principal_of(user, membership)
    await record(s, actor, "auth.signup", "user", user.id, {"first_user": first})
    await record(s, actor, "workspace.create", "workspace", tenant.id, {"name": tenant.name, "slug": tenant.slug})
    return user, tenant, membership


async def change_password(s: AsyncSession, p: Principal, current: str, new: str) -> None:
    user = await s.get(User, p.user_id)
    if user is None or not services.verify_password(current, user.password_hash):
        raise Forbidden("the current password is wrong", field="current_password")
    check_new_password(new, field="new_password")
    user.password_hash = services.hash_password(new)
    await record(s, p, "auth.password_change", "user", user.id)


# --- password reset -------------------------------------------------------------------------

async def request_reset(db: Any, mailer: Any, public_base: str, email: str, token: str) -> None:
    """Background part of POST /api/auth/password-reset: store the link and mail it, if the
    address has an account; nothing otherwise. Mailed through the provider of the user's first
    workspace (the built-in outbox by default)."""
    try:
        async with db.sessionmaker() as s:
            user = await services.user_by_email(s, email)
            memberships = await services.memberships_of(s, user.id) if user else []
            if user is None or not memberships:
                return
            key = services.hash_token(token)
            await s.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id,
                                                        PasswordReset.used_at.is_not(None)
                                                        | (PasswordReset.expires_at <= utcnow())))
            s.add(PasswordReset(id=key, user_id=user.id, expires_at=utcnow() + RESET_TTL))
            tenant_id = memberships[0][1].id
            await record(s, services.principal_of(user, memberships[0][0]), "auth.password_reset", "user", user.id,
                         {"stage": "requested"})
            await s.commit()
        url = f"{public_base.rstrip('/')}/reset/{token}"
        text = (f"Someone asked to reset the password of your Maily Flow account {user.email}.\n\n"
                f"Set a new password here (the link works once, for one hour):\n{url}\n\n"
                "If it was not you, ignore this mail: your password stays as it is.\n")
        msg = Outgoing(key=f"password-reset:{key[:32]}", sender=system_sender(public_base), to=user.email,
                       subject="Reset your Maily Flow password", text=text)
        await mailer.send_batch(tenant_id, "account", "password-reset", [msg])
    except Exception:  # noqa: BLE001 - the caller already has its 202; the log says what failed
        log.exception("password reset mail failed")


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


async def confirm_reset(s: AsyncSession, token: str, password: str) -> User:
    """Set the password of a valid reset token's user and use up every open link of theirs.
    404 for an unknown token, 410 for a used or expired one."""
    key = services.hash_token(token)
    row = await s.get(PasswordReset, key) if len(token) <= 100 else None
    if row is None or not hmac.compare_digest(row.id, key):
        raise NotFound("this reset link is unknown: ask for a new one")
    if row.used_at is not None:
        raise Gone("this reset link was used already: ask for a new one")
    if _aware(row.expires_at) <= utcnow():
        raise Gone("this reset link has expired: ask for a new one")
    check_new_password(password)
    user = await s.get(User, row.user_id)
    if user is None:
        raise NotFound("this reset link is unknown: ask for a new one")
    user.password_hash = services.hash_password(password)
    await s.execute(update(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
                    .values(used_at=utcnow()))
    memberships = await services.memberships_of(s, user.id)
    if memberships:
        await record(s, services.principal_of(user, memberships[0][0]), "auth.password_reset", "user", user.id,
                     {"stage": "confirmed"})
    return user


def new_reset_token() -> str:
    return secrets.token_urlsafe(16)   # 128 bits
