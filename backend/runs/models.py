"""The runs domain's own table: the app processes that own runs (backend/runs/instances.py).
The run tables themselves (runs, node_runs, run_events) are shared by many domains and live in
backend/db/models.py."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, id_column, timestamp_column


class AppInstance(Base):
    """A running app process (embedded mode): where it runs, and when it last said it was alive."""

    __tablename__ = "app_instances"

    id: Mapped[str] = id_column()
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int] = mapped_column(sa.Integer)
    started_at: Mapped[datetime] = timestamp_column()
    heartbeat_at: Mapped[datetime] = timestamp_column()
