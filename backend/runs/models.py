"""The runs domain's own table: the app processes that own runs (backend/runs/instances.py).
The run tables themselves (runs, node_runs, run_events) are shared by many domains and live in
backend/db/models.py."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, _id, _ts


class AppInstance(Base):
    """A running app process (embedded mode): where it runs, and when it last said it was alive."""

    __tablename__ = "app_instances"

    id: Mapped[str] = _id()
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int] = mapped_column(sa.Integer)
    started_at: Mapped[datetime] = _ts()
    heartbeat_at: Mapped[datetime] = _ts()
