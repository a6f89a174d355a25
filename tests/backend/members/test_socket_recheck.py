"""socket_refusal: the second look a socket takes once it is registered for revocation, so that a
revocation committed between its authentication and its registration still closes it."""

from __future__ import annotations

import sqlalchemy as sa

from backend.auth import services as auth
from backend.auth.deps import socket_refusal
from backend.auth.models import AuthSession
from backend.db.models import ApiToken, Membership, User, utcnow


async def _principal(db, member, **over):
    async with db.sessionmaker() as s:
        user = await s.get(User, member.user_id)
        m = await s.scalar(sa.select(Membership).where(Membership.user_id == member.user_id,
                                                       Membership.tenant_id == member.tenant_id))
        token_id = await s.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == member.user_id))
    return auth.principal_of(user, m, **{"token_id": token_id, **over})


async def _refusal(db, p):
    async with db.sessionmaker() as s:
        return await socket_refusal(s, p)


async def test_a_live_credential_passes_and_each_ending_is_named(db, tenant_a):
    """None while token and membership hold; 4000 after a role change; 4401 after a token revocation or removal."""
    p = await _principal(db, tenant_a.editor)
    assert await _refusal(db, p) is None
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(Membership).where(Membership.user_id == p.user_id,
                                                    Membership.tenant_id == p.tenant_id).values(role="viewer"))
    assert await _refusal(db, p) == (4000, "role changed")
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(ApiToken).where(ApiToken.id == p.token_id).values(revoked_at=utcnow()))
    assert await _refusal(db, p) == (4401, "API token revoked")
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.delete(Membership).where(Membership.user_id == p.user_id,
                                                    Membership.tenant_id == p.tenant_id))
    assert await _refusal(db, p) == (4401, "removed from workspace")


async def test_an_ended_session_is_refused(db, tenant_a):
    """A session-authenticated socket whose session was revoked (or is unknown) gets 4401."""
    import secrets
    from datetime import timedelta

    async with db.sessionmaker() as s, s.begin():
        row = AuthSession(id=secrets.token_hex(32), user_id=tenant_a.viewer.user_id, tenant_id=tenant_a.id,
                          expires_at=utcnow() + timedelta(days=1))
        s.add(row)
        await s.flush()
        public_id = row.public_id
    p = await _principal(db, tenant_a.viewer, token_id=None, session_id=public_id)
    assert await _refusal(db, p) is None
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(AuthSession).where(AuthSession.public_id == public_id).values(revoked_at=utcnow()))
    assert await _refusal(db, p) == (4401, "signed out")
    assert await _refusal(db, await _principal(db, tenant_a.viewer, token_id=None,
                                                        session_id="0" * 32)) == (4401, "signed out")
