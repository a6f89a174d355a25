"""The members domain's table: invitations to a workspace (issue 13)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, UtcDateTime, fk_column, id_column, timestamp_column


class Invitation(Base):
    """An invitation to join a tenant with a role. Only the sha256 of its token is stored."""

    __tablename__ = "invitations"
    __table_args__ = (sa.Index("ix_invitations_tenant_id_email", "tenant_id", "email"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = fk_column("tenants.id", ondelete="CASCADE")
    email: Mapped[str] = mapped_column(sa.String(320))          # lower-cased
    role: Mapped[str] = mapped_column(sa.String(20))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    created_at: Mapped[datetime] = timestamp_column()
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    accepted_by: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    revoked_at: Mapped[datetime | None] = timestamp_column(nullable=True)
