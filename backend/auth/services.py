"""Passwords, API tokens, users, tenants and memberships.

Passwords: scrypt with a random salt, compared in constant time. Tokens: `mf_` + 32 random
bytes; only their sha256 is stored (a token has 256 bits of entropy, so a fast hash is
enough; no salt needed) and the first 8 characters are kept to recognise it in lists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.schemas import Principal
from backend.db.models import ApiToken, Membership, Tenant, User, utcnow
from backend.db.scoped import find_scoped

TOKEN_PREFIX = "mf_"
# Do not write last_used_at more often than this: a write per request is a row update
# (and a dead tuple) per request for no benefit.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# A hash of a random password, so that logins of unknown emails cost as much as real ones
# (no user enumeration by timing).
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100] or "tenant"


async def unique_slug(s: AsyncSession, name: str) -> str:
    """slugify(name), with -2, -3... appended while another workspace has it."""
    base = slugify(name)[:90]
    taken = set(await s.scalars(select(Tenant.slug).where(Tenant.slug.startswith(base, autoescape=True))))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


# --- users, tenants, memberships -------------------------------------------------------

async def create_tenant(s: AsyncSession, name: str, slug: str | None = None, tier: str = "free") -> Tenant:
    tenant = Tenant(name=name, slug=slug or slugify(name), tier=tier)
    s.add(tenant)
    await s.flush()
    return tenant


async def create_user(s: AsyncSession, email: str, password: str, name: str = "") -> User:
    user = User(email=email.strip().lower(), name=name, password_hash=hash_password(password))
    s.add(user)
    await s.flush()
    return user


async def add_member(s: AsyncSession, tenant_id: str, user_id: str, role: str) -> Membership:
    m = Membership(tenant_id=tenant_id, user_id=user_id, role=role)
    s.add(m)
    await s.flush()
    return m


async def user_by_email(s: AsyncSession, email: str) -> User | None:
    return await s.scalar(select(User).where(User.email == email.strip().lower()))


async def check_password(s: AsyncSession, email: str, password: str) -> User | None:
    user = await user_by_email(s, email)
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None
    return user if verify_password(password, user.password_hash) else None


async def memberships_of(s: AsyncSession, user_id: str) -> list[tuple[Membership, Tenant]]:
    rows = await s.execute(
        select(Membership, Tenant).join(Tenant, Tenant.id == Membership.tenant_id)
        .where(Membership.user_id == user_id).order_by(Membership.created_at, Membership.id)
    )
    return [(m, t) for m, t in rows.all()]


def pick_membership(memberships: list[tuple[Membership, Tenant]], wanted: str | None) -> tuple[Membership, Tenant] | None:
    """The membership `wanted` (tenant id or slug) names, or the first one when it names none."""
    if not memberships:
        return None
    if not wanted:
        return memberships[0]
    return next(((m, t) for m, t in memberships if wanted in (t.id, t.slug)), None)


def principal_of(user: User, m: Membership, token_id: str | None = None, session_id: str | None = None,
                 read_only: bool = False) -> Principal:
    return Principal(user_id=user.id, tenant_id=m.tenant_id, role=m.role, email=user.email, name=user.name,
                     token_id=token_id, session_id=session_id, is_admin=bool(user.is_admin), read_only=read_only)


# --- API tokens ---------------------------------------------------------------------------

async def create_api_token(s: AsyncSession, tenant_id: str, user_id: str, name: str,
                           read_only: bool = False) -> tuple[ApiToken, str]:
    """Returns the row and the token itself, which is never stored and never shown again."""
    token = new_token()
    row = ApiToken(tenant_id=tenant_id, user_id=user_id, name=name, token_hash=hash_token(token),
                   prefix=token[:8], read_only=read_only)
    s.add(row)
    await s.flush()
    return row, token


async def principal_for_token(s: AsyncSession, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = await s.execute(
        select(ApiToken, User, Membership)
        .join(User, User.id == ApiToken.user_id)
        .join(Membership, (Membership.user_id == ApiToken.user_id) & (Membership.tenant_id == ApiToken.tenant_id))
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    )
    found = row.first()
    if found is None:  # unknown, revoked, or the user left the tenant
        return None
    api_token, user, membership = found
    now = utcnow()
    last = api_token.last_used_at
    if last is None or _aware(last) < now - LAST_USED_RESOLUTION:
        await s.execute(update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now))
    return principal_of(user, membership, token_id=api_token.id, read_only=bool(api_token.read_only))


def _aware(dt: datetime) -> datetime:
    # a value set in Python before it was stored may be naive
    from datetime import timezone

    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


async def list_tokens(s: AsyncSession, p: Principal) -> list[ApiToken]:
    rows = await s.scalars(
        select(ApiToken).where(ApiToken.user_id == p.user_id, ApiToken.tenant_id == p.tenant_id)
        .order_by(ApiToken.created_at.desc())
    )
    return list(rows)


async def revoke_token(s: AsyncSession, p: Principal, token_id: str) -> bool:
    """Revoke one of the caller's own tokens in the current tenant; False if there is none."""
    row = await find_scoped(s, ApiToken, p.tenant_id, token_id, ApiToken.user_id == p.user_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return True
