"""Trigger tables: webhooks (secret encrypted at rest), cron schedules (DB-backed next fire
time, claimed with a conditional UPDATE), and chains from one workflow to another."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, JSONType, UtcDateTime, new_id, utcnow

SOURCES = ("published", "draft")


def _wf_fk() -> Any:
    return mapped_column(sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"), index=True)


class Webhook(Base):
    __tablename__ = "webhooks"

    # Random (uuid4 hex): the id is in the public URL /hooks/{id}; the secret is what authenticates.
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    workflow_id: Mapped[str] = _wf_fk()
    # backend/crypto.encrypt(secret, context=tenant_id:id): recoverable, since HMAC needs it.
    secret_enc: Mapped[str] = mapped_column(sa.Text)
    secret_hint: Mapped[str] = mapped_column(sa.String(16), default="")
    allow_token: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    source: Mapped[str] = mapped_column(sa.String(20), default="published")
    # When the sender gets its answer: "immediately" (202 with the run id), "when_done" (the run's
    # output or error) or "node" (what a webhook.respond node sets); docs/triggers.md.
    respond: Mapped[str] = mapped_column(sa.String(20), default="immediately", server_default="immediately")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (sa.Index("ix_schedules_enabled_next_run_at", "enabled", "next_run_at"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    workflow_id: Mapped[str] = _wf_fk()
    cron: Mapped[str] = mapped_column(sa.String(200))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    input: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    source: Mapped[str] = mapped_column(sa.String(20), default="published")
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Bumped by every edit and every fire: a scheduler claims a slot with
    # UPDATE ... WHERE id = :id AND revision = :seen, so only one process wins it.
    revision: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_run_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class Chain(Base):
    """When a run of source_workflow_id ends with a status in `on`, start target_workflow_id."""

    __tablename__ = "workflow_chains"
    __table_args__ = (sa.UniqueConstraint("source_workflow_id", "target_workflow_id"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    source_workflow_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"))
    target_workflow_id: Mapped[str] = _wf_fk()
    on: Mapped[list[str]] = mapped_column(JSONType, default=list)
    source: Mapped[str] = mapped_column(sa.String(20), default="published")
    created_by: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class ChainFiring(Base):
    """One row per (chain, source run) that fired: the primary key makes a chain fire once per
    source run, however many processes see the run's last event."""

    __tablename__ = "workflow_chain_firings"

    chain_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("workflow_chains.id", ondelete="CASCADE"),
                                          primary_key=True)
    source_run_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    target_run_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class WebhookDelivery(Base):
    """A signed webhook delivery already accepted, kept until its timestamp leaves the tolerance
    window: the primary key refuses the same delivery twice across processes (triggers/replay.py)."""

    __tablename__ = "webhook_deliveries"

    # sha256 of webhook id + signature: the signature covers timestamp and body, so it names one delivery.
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
