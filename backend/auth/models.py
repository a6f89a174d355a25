"""Server-side browser sessions and password-reset tokens (issue 12 item 6, issue 13).

Both keep only the sha256 of their secret: a leaked database holds no usable cookie or link.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, UtcDateTime, new_id, utcnow


class AuthSession(Base):
    """One signed-in browser. The `maily_session` cookie holds the token whose sha256 is `id`."""

    __tablename__ = "sessions"
    __table_args__ = (sa.Index("ix_sessions_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)   # sha256 hex of the cookie's token
    # A short public handle for lists and DELETE /api/auth/sessions/{id}: the hash itself never leaves.
    public_id: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_id)
    user_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"))
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    user_agent: Mapped[str] = mapped_column(sa.String(400), default="")
    ip: Mapped[str] = mapped_column(sa.String(64), default="")


class PasswordReset(Base):
    """A single-use reset link: `{public base}/reset/{token}`, valid one hour."""

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)   # sha256 hex of the token
    user_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
