"""The retention domain's own table: each workspace's policy for keeping runs."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, timestamp_column

DEFAULT_KEEP_DAYS = 30
DEFAULT_MAX_PER_WORKFLOW = 1000


class RunRetention(Base):
    """A workspace's retention policy; a workspace without a row has the defaults above."""

    __tablename__ = "run_retention"

    tenant_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           primary_key=True)
    keep_days: Mapped[int] = mapped_column(sa.Integer, default=DEFAULT_KEEP_DAYS, server_default=str(DEFAULT_KEEP_DAYS))
    # None: no cap per workflow (only the age counts)
    max_per_workflow: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    updated_at: Mapped[datetime] = timestamp_column()
