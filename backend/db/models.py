"""SQLAlchemy 2 models: tenants, users, tokens, workflows and their versions, runs.

Ids are uuid4 hex strings made in Python (`new_id`), so rows can be referenced before
they are flushed. Every tenant-owned
row carries `tenant_id` so queries can scope on it without a join.

Where tables live (tests/backend/db/test_table_homes.py holds to it): a table that several
domains read or write (tenants, users, memberships, tokens, workflows and versions, runs, node
runs, run events) is declared here; a table one domain owns is declared in that domain's
`backend/<domain>/models.py`, with the column builders below (id_column, timestamp_column,
fk_column) so every table spells ids and times alike. Migrations import none of them.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# JSONB on PostgreSQL (indexable, compact, validated on write); plain JSON elsewhere.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")

TENANT_TIERS = ("free", "premium", "enterprise")
ROLES = ("owner", "editor", "viewer")
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "waiting", "paused")
NODE_STATUSES = ("queued", "running", "succeeded", "failed", "skipped", "cancelled", "waiting")
RUN_TRIGGERS = ("manual", "api", "webhook", "cli")


def new_id() -> str:
    return uuid.uuid4().hex


_ID = re.compile(r"[0-9a-f]{32}")


def looks_like_id(value: str) -> bool:
    """True for the shape of our ids. Check path ids with it before querying: junk such as
    NUL bytes would otherwise reach PostgreSQL as an encoding error (a 500), not a 404."""
    return bool(_ID.fullmatch(value))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Deterministic constraint names, so Alembic migrations can drop/alter them on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def id_column() -> Mapped[str]:
    """The 32-hex-character primary key every table uses (new_id)."""
    return mapped_column(sa.String(32), primary_key=True, default=new_id)


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime: naive values written are taken as UTC, and what is read
    back always carries its zone."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


def timestamp_column(nullable: bool = False) -> Any:
    """A UTC timestamp column; not nullable ones default to now."""
    if nullable:
        return mapped_column(UtcDateTime(), nullable=True)
    return mapped_column(UtcDateTime(), nullable=False, default=utcnow)


def fk_column(target: str, *, nullable: bool = False, index: bool = False, ondelete: str | None = None) -> Any:
    return mapped_column(sa.String(32), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    tier: Mapped[str] = mapped_column(sa.String(20), default="free", server_default="free")
    created_at: Mapped[datetime] = timestamp_column()


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = timestamp_column()
    # Instance administrator (sets workspaces' tiers): the first person to sign up, and the demo user.
    is_admin: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = fk_column("tenants.id", ondelete="CASCADE")
    user_id: Mapped[str] = fk_column("users.id", index=True, ondelete="CASCADE")
    role: Mapped[str] = mapped_column(sa.String(20), default="viewer")
    created_at: Mapped[datetime] = timestamp_column()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = fk_column("tenants.id", index=True, ondelete="CASCADE")
    user_id: Mapped[str] = fk_column("users.id", index=True, ondelete="CASCADE")
    name: Mapped[str] = mapped_column(sa.String(200))
    # sha256 hex of the token: a leaked database does not leak usable tokens.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    # A read-only token makes safe requests (GET/HEAD) only, and opens read-only sockets.
    read_only: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    created_at: Mapped[datetime] = timestamp_column()
    last_used_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    revoked_at: Mapped[datetime | None] = timestamp_column(nullable=True)


class Workflow(Base):
    __tablename__ = "workflows"

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = fk_column("tenants.id", index=True, ondelete="CASCADE")
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    graph: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str | None] = fk_column("users.id", nullable=True, ondelete="SET NULL")
    created_at: Mapped[datetime] = timestamp_column()
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    published_version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    deleted_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    # A tool of the workspace's MCP server (/mcp, backend/mcp) while it has a published version.
    mcp_exposed: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())


class WorkflowVersion(Base):
    """A published graph. Never updated: runs of version N always see the same graph."""

    __tablename__ = "workflow_versions"
    __table_args__ = (sa.UniqueConstraint("workflow_id", "version"),)

    id: Mapped[str] = id_column()
    workflow_id: Mapped[str] = fk_column("workflows.id", ondelete="CASCADE")
    tenant_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    graph: Mapped[dict[str, Any]] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    created_at: Mapped[datetime] = timestamp_column()


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        sa.Index("ix_runs_tenant_id_created_at", "tenant_id", "created_at"),
        sa.Index("ix_runs_tenant_id_status", "tenant_id", "status"),
        sa.Index("ix_runs_status_resume_at", "status", "resume_at"),
    )

    id: Mapped[str] = id_column()
    tenant_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    workflow_id: Mapped[str | None] = fk_column("workflows.id", nullable=True, index=True, ondelete="SET NULL")
    workflow_version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    trigger: Mapped[str] = mapped_column(sa.String(20), default="manual")
    input: Mapped[Any] = mapped_column(JSONType, default=dict)
    output: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    graph: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the snapshot that ran
    created_by: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    created_at: Mapped[datetime] = timestamp_column()
    started_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    finished_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    prefect_flow_run_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    # Run control: a waiting run resumes at resume_at (None: on a decision); waiting_on lists
    # its waiting nodes. retry_of / rerun_from link a retry or re-run to the run it reuses.
    resume_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    waiting_on: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    retry_of: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    rerun_from: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    # The first run of a retry_of chain (itself for a first run): side effects are keyed on it,
    # so a retry or re-run skips what an earlier run of the lineage did (docs/email.md).
    root_run_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    # The app process (app_instances.id) that runs it in embedded mode: recovery at start-up takes
    # only the runs whose process is gone (backend/runs/instances.py), never a live replica's.
    owner_instance: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    # The outputs this run's first pass reuses, as the app decided them (a test run from the node
    # panel, a re-run confirmed to repeat a side effect): a production worker takes them as they are.
    reuse: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    # flow.subworkflow: the run (and its node) that started this one as a child; None for others.
    parent_run_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True, index=True)
    parent_node_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)


class NodeRun(Base):
    __tablename__ = "node_runs"

    id: Mapped[str] = id_column()
    run_id: Mapped[str] = fk_column("runs.id", index=True, ondelete="CASCADE")
    tenant_id: Mapped[str] = mapped_column(sa.String(32))
    node_id: Mapped[str] = mapped_column(sa.String(64))
    node_type: Mapped[str] = mapped_column(sa.String(100))
    # Index of the item inside a logic.for_each, else None.
    iteration: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="queued")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    started_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    finished_at: Mapped[datetime | None] = timestamp_column(nullable=True)
    input: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    output: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    error: Mapped[Any | None] = mapped_column(JSONType, nullable=True)


class RunEvent(Base):
    __tablename__ = "run_events"
    __table_args__ = (sa.UniqueConstraint("run_id", "seq"),)

    id: Mapped[int] = mapped_column(
        sa.BigInteger(), primary_key=True, autoincrement=True
    )
    run_id: Mapped[str] = fk_column("runs.id", ondelete="CASCADE")
    seq: Mapped[int] = mapped_column(sa.Integer)
    kind: Mapped[str] = mapped_column(sa.String(40))
    node_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    at: Mapped[datetime] = timestamp_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


__all__ = [
    "Base", "Tenant", "User", "Membership", "ApiToken", "Workflow", "WorkflowVersion",
    "Run", "NodeRun", "RunEvent", "new_id", "looks_like_id", "utcnow", "JSONType", "UtcDateTime",
    "id_column", "timestamp_column", "fk_column",
]
