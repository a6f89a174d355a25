"""The audit trail: who changed, published, restored, ran, cancelled and approved what.

Services call `record(s, principal, action, target_type, target_id, details)` inside the
request's transaction, so an action and its audit row commit (or roll back) together.
`GET /api/audit` lists a tenant's events for its owners, newest first, filtered by
action, target, actor and time. Rows are never updated; they outlive what they name.

Actions so far (docs/operations.md): workflow.create, workflow.update, workflow.delete,
workflow.publish, workflow.restore, run.start, run.cancel, run.pause, run.resume,
run.approve, run.reject, run.retry, run.rerun; accounts and workspaces: auth.signup,
auth.login, auth.logout, auth.password_change, auth.password_reset, session.revoke,
workspace.create, workspace.rename, workspace.switch, workspace.set_tier, token.create,
token.revoke; members: member.role_change, member.remove, invitation.create,
invitation.resend, invitation.revoke, invitation.accept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from litestar import Controller, get
from litestar.params import Parameter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from backend.auth.guards import requires_owner
from backend.auth.schemas import Principal
from backend.params import OFFSET
from backend.db.models import Base, JSONType, UtcDateTime, new_id, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_tenant_id_at", "tenant_id", "at"),
        sa.Index("ix_audit_events_tenant_id_target", "tenant_id", "target_type", "target_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    # Plain columns, no foreign keys: the trail outlives deleted workflows, runs and users.
    tenant_id: Mapped[str] = mapped_column(sa.String(32))
    actor_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)     # the user; None: the system
    actor_email: Mapped[str] = mapped_column(sa.String(320), default="")
    token_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)     # set when an API token acted
    action: Mapped[str] = mapped_column(sa.String(60))
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[str] = mapped_column(sa.String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


async def record(s: AsyncSession, principal: Principal | None, action: str, target_type: str, target_id: str,
                 details: dict[str, Any] | None = None, *, tenant_id: str | None = None) -> AuditEvent:
    """Add an audit row to the session (it commits with the caller's transaction).
    principal None is the system acting (a trigger, a schedule): pass tenant_id then."""
    tenant = principal.tenant_id if principal is not None else tenant_id
    if not tenant:
        raise ValueError("an audit event needs a tenant")
    row = AuditEvent(id=new_id(), tenant_id=tenant, actor_id=principal.user_id if principal else None,
                     actor_email=principal.email if principal else "", token_id=principal.token_id if principal else None,
                     action=action, target_type=target_type, target_id=str(target_id), details=details or {},
                     at=utcnow())
    s.add(row)
    return row


class AuditEventOut(BaseModel):
    id: str
    at: datetime
    action: str
    target_type: str
    target_id: str
    actor_id: str | None
    actor_email: str
    token_id: str | None
    details: dict[str, Any]


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]

    @get("/", operation_id="listAuditEvents", guards=[requires_owner])
    async def list_events(
        self, principal: Principal, db_session: AsyncSession,
        action: str | None = Parameter(default=None, description="exact action, or a prefix ending in '.': `workflow.`"),
        target_type: str | None = None, target_id: str | None = None,
        actor: str | None = Parameter(default=None, description="user id or email of who acted"),
        since: datetime | None = None, until: datetime | None = None,
        limit: int = Parameter(default=100, ge=1, le=500), offset: int = OFFSET,
    ) -> list[AuditEventOut]:
        """The tenant's audit trail, newest first (owners only)."""
        q = sa.select(AuditEvent).where(AuditEvent.tenant_id == principal.tenant_id)
        if action:
            q = q.where(AuditEvent.action.startswith(action, autoescape=True) if action.endswith(".")
                        else AuditEvent.action == action)
        if target_type:
            q = q.where(AuditEvent.target_type == target_type)
        if target_id:
            q = q.where(AuditEvent.target_id == target_id)
        if actor:
            q = q.where(sa.or_(AuditEvent.actor_id == actor, AuditEvent.actor_email == actor.lower()))
        if since is not None:
            q = q.where(AuditEvent.at >= since)
        if until is not None:
            q = q.where(AuditEvent.at < until)
        rows = await db_session.scalars(q.order_by(AuditEvent.at.desc(), AuditEvent.id).limit(limit).offset(offset))
        return [AuditEventOut(**{k: getattr(r, k) for k in AuditEventOut.model_fields}) for r in rows]
