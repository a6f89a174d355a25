"""Poller tables: one poller per trigger.rss / trigger.imap node of a published workflow, the
feed items each workflow has seen, and the attachments of the mails that started runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, JSONType, UtcDateTime, new_id, utcnow

KINDS = ("rss", "imap")


class FeedPoller(Base):
    """A trigger node of the published version, polled by whichever app process claims it.

    rss: claimed per poll, `UPDATE ... SET next_poll_at, revision = revision + 1 WHERE revision = :seen`
    (the scheduler's pattern). imap: held for as long as its watcher runs, by a lease
    (`lease_owner`, `lease_until`) the watcher renews; a publish that changes the node bumps
    `revision` and clears the lease, which stops the watcher."""

    __tablename__ = "feed_pollers"
    __table_args__ = (sa.UniqueConstraint("workflow_id", "node_id"),
                      sa.Index("ix_feed_pollers_enabled_next_poll_at", "enabled", "next_poll_at"))

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    workflow_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(10))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(sa.Integer, default=0)          # the published version it came from
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    next_poll_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revision: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # rss: etag, last_modified, primed; imap: uidvalidity, last_uid
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    last_polled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_run_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class FeedSeen(Base):
    """An item a workflow has seen in a feed (sha256 of the feed URL, sha256 of the item's id):
    the primary key is also what makes an item start one run however many processes poll."""

    __tablename__ = "feed_seen_items"
    __table_args__ = (sa.Index("ix_feed_seen_items_feed_seen_at", "workflow_id", "feed_key", "seen_at"),)

    workflow_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"),
                                             primary_key=True)
    feed_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    item_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)


class MailAttachment(Base):
    """An attachment of a mail that started a run: the run's payload names it by `ref`, the bytes stay here."""

    __tablename__ = "mail_attachments"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)     # random: the reference
    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    workflow_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"),
                                             index=True)
    # Set once the run is recorded; the attachment goes with its run (run retention, ON DELETE CASCADE).
    run_id: Mapped[str | None] = mapped_column(sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"),
                                               nullable=True, index=True)
    message_id: Mapped[str] = mapped_column(sa.Text, default="")
    filename: Mapped[str] = mapped_column(sa.Text, default="")
    content_type: Mapped[str] = mapped_column(sa.String(255), default="application/octet-stream")
    size: Mapped[int] = mapped_column(sa.Integer, default=0)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, default=utcnow)
