"""Email tables: tenant templates and provider settings, the sent-log, suppressions, the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, JSONType, UtcDateTime, id_column, new_id, timestamp_column, utcnow


class EmailTemplate(Base):
    __tablename__ = "email_templates"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.Text, default="")
    html: Mapped[str] = mapped_column(sa.Text, default="")
    text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = timestamp_column()


class EmailProviderConfig(Base):
    """One sending provider per tenant; `secret` (password or API key) is encrypted at rest
    with the tenant id as authenticated context."""

    __tablename__ = "email_provider_configs"

    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)   # host, port, domain, base_url...
    secret: Mapped[str] = mapped_column(sa.Text, default="")
    # The provider's webhook signing secret (Resend whsec_..., Mailgun key) or public key
    # (SendGrid), encrypted the same way, and the provider it verifies (backend/email/webhooks.py).
    webhook_secret: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    webhook_provider: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    updated_at: Mapped[datetime] = timestamp_column()


class EmailSend(Base):
    """The sent-log: one row per idempotency key, claimed before the provider is called."""

    __tablename__ = "email_sends"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"), sa.Index("ix_email_sends_tenant_id_run_id", "tenant_id", "run_id"))

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(400))
    run_id: Mapped[str] = mapped_column(sa.String(64))
    node_id: Mapped[str] = mapped_column(sa.String(64))
    recipient: Mapped[str] = mapped_column(sa.String(320))
    status: Mapped[str] = mapped_column(sa.String(20), default="sending")        # sending | sent
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = timestamp_column()
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class EmailSuppression(Base):
    __tablename__ = "email_suppressions"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "email"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(320))
    reason: Mapped[str] = mapped_column(sa.String(20))                 # unsubscribe | bounce | complaint | manual
    source: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[datetime] = timestamp_column()


class EmailOutboxMessage(Base):
    """Mail of tenants without a provider: kept here, shown by the API, never sent."""

    __tablename__ = "email_outbox"
    __table_args__ = (sa.Index("ix_email_outbox_tenant_id_created_at", "tenant_id", "created_at"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(sa.String(64))
    node_id: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(400))
    message_id: Mapped[str] = mapped_column(sa.String(200))
    sender: Mapped[str] = mapped_column(sa.String(400))
    recipient: Mapped[str] = mapped_column(sa.String(400))
    subject: Mapped[str] = mapped_column(sa.Text)
    raw: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = timestamp_column()


class EmailWebhookNonce(Base):
    """One-time webhook tokens (Mailgun) seen within the timestamp tolerance: a replay is refused."""

    __tablename__ = "email_webhook_nonces"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "provider", "token"),
                      sa.Index("ix_email_webhook_nonces_created_at", "created_at"))

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(sa.String(20))
    token: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = timestamp_column()
