"""Signing keys, certificates and the append-only, hash-chained ledger (one chain per tenant)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, JSONType, UtcDateTime, new_id, utcnow


class SigningKey(Base):
    __tablename__ = "signing_keys"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[str] = mapped_column(sa.String(100))         # raw Ed25519, base64
    private_key: Mapped[str] = mapped_column(sa.Text)               # PEM, encrypted (backend.crypto)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Retired keys sign nothing new but stay on file: old certificates keep verifying.
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (sa.Index("ix_certificates_tenant_id_created_at", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    run_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LedgerEntry(Base):
    """Never updated or deleted by the app. (tenant_id, seq) is unique, so two concurrent
    appends cannot both take the same place: the loser retries on the new head."""

    __tablename__ = "ledger_entries"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "seq"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(sa.Integer)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    cert_id: Mapped[str] = mapped_column(sa.String(32))
    cert_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[str] = mapped_column(sa.String(40))          # the exact string that was hashed
    entry_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
