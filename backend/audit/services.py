"""Recording an action, and reading a tenant's trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.models import AuditEvent
from backend.auth.schemas import Principal
from backend.db.models import new_id, utcnow


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


async def list_events(s: AsyncSession, tenant_id: str, *, action: str | None = None, target_type: str | None = None,
                      target_id: str | None = None, actor: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
    """The tenant's events, newest first: action exact or a prefix ending in '.', target, actor
    (user id or email), time."""
    q = sa.select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
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
    return list(await s.scalars(q.order_by(AuditEvent.at.desc(), AuditEvent.id).limit(limit).offset(offset)))
