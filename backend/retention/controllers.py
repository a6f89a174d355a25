"""/api/retention: the workspace's run retention policy and a prune now (or a dry run of it).
Logic lives in services.py."""

from __future__ import annotations

from litestar import Controller, Request, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_owner
from backend.auth.schemas import Principal
from backend.retention import services
from backend.retention.schemas import PruneReportOut, RetentionIn, RetentionOut


class RetentionController(Controller):
    path = "/api/retention"
    tags = ["retention"]

    @get("/", operation_id="getRetention")
    async def get_policy(self, principal: Principal, db_session: AsyncSession) -> RetentionOut:
        """How long the workspace keeps runs, and how many per workflow at most."""
        return await services.get_policy(db_session, principal)

    @put("/", operation_id="setRetention", guards=[requires_owner])
    async def set_policy(self, data: RetentionIn, principal: Principal, db_session: AsyncSession) -> RetentionOut:
        """Change the workspace's retention (owners); the background job applies it on its next pass."""
        return await services.set_policy(db_session, principal, data)

    @post("/prune", operation_id="pruneRuns", guards=[requires_owner], status_code=200)
    async def prune(self, request: Request, principal: Principal, dry_run: bool = True) -> PruneReportOut:
        """Prune the workspace's runs past its policy now (owners); by default a dry run that only counts."""
        st = request.app.state
        return await services.prune_tenant(st.db, principal.tenant_id, dry_run=dry_run, batch=st.settings.retention_batch)
