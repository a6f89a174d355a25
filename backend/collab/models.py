"""The co-editing tables: a workflow draft's compacted document and the updates accepted since
(read and written by backend/collab/store.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.models import Base, UtcDateTime, utcnow


class WorkflowDoc(Base):
    """The compacted document of a workflow's draft."""

    __tablename__ = "workflow_docs"

    workflow_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"),
                                             primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    state: Mapped[bytes] = mapped_column(sa.LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class WorkflowDocUpdate(Base):
    """One batch of updates accepted after the compacted state (merged into one update)."""

    __tablename__ = "workflow_doc_updates"

    id: Mapped[int] = mapped_column(sa.BigInteger(), primary_key=True,
                                    autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(sa.String(32), sa.ForeignKey("workflows.id", ondelete="CASCADE"),
                                             index=True)
    update: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
