"""The audit trail's table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, JSONType, UtcDateTime, new_id, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_tenant_id_at", "tenant_id", "at"),
        sa.Index("ix_audit_events_tenant_id_target", "tenant_id", "target_type", "target_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    # Plain columns, no foreign keys: the trail outlives deleted workflows, runs and users.
    tenant_id: Mapped[str] = mapped_column(sa.String(32))
    actor_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)     # the user; None: the system
    actor_email: Mapped[str] = mapped_column(sa.String(320), default="")
    token_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)     # set when an API token acted
    action: Mapped[str] = mapped_column(sa.String(60))
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[str] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
