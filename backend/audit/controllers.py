"""GET /api/audit: a tenant's audit trail, for its owners."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit import services
from backend.audit.schemas import AuditEventOut
from backend.auth.guards import requires_owner
from backend.auth.schemas import Principal
from backend.params import OFFSET


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
        rows = await services.list_events(db_session, principal.tenant_id, action=action, target_type=target_type,
                                          target_id=target_id, actor=actor, since=since, until=until, limit=limit,
                                          offset=offset)
        return [AuditEventOut(**{k: getattr(r, k) for k in AuditEventOut.model_fields}) for r in rows]
