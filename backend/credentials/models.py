"""The vault's table. `fields` holds only the non-secret fields; the secret ones are sealed in
`secret` under a per-credential data key, itself in `wrapped_key` (backend/credentials/envelope.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, JSONType, fk_column, id_column, timestamp_column


class Credential(Base):
    __tablename__ = "credentials"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = fk_column("tenants.id", ondelete="CASCADE")
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(40))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    secret: Mapped[str] = mapped_column(sa.Text)
    wrapped_key: Mapped[str] = mapped_column(sa.Text)
    key_version: Mapped[str] = mapped_column(sa.String(32))
    created_by: Mapped[str | None] = fk_column("users.id", nullable=True, ondelete="SET NULL")
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()
