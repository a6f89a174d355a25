"""/api/admin: the instance administrator's view of every workspace and their tiers (plans)."""

from __future__ import annotations

from litestar import Controller, Request, get, patch
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_admin
from backend.auth.schemas import Principal
from backend.workspaces import services
from backend.workspaces.schemas import AdminWorkspaceOut, AdminWorkspacesOut, TierIn


class AdminController(Controller):
    path = "/api/admin"
    tags = ["admin"]
    guards = [requires_admin]

    @get("/workspaces", operation_id="adminListWorkspaces")
    async def list_workspaces(self, db_session: AsyncSession) -> AdminWorkspacesOut:
        """Every workspace of the instance with its tier and member count (instance admin only)."""
        return AdminWorkspacesOut(items=await services.all_workspaces(db_session))

    @patch("/workspaces/{workspace_id:str}", operation_id="adminSetTier")
    async def set_tier(self, request: Request, workspace_id: str, data: TierIn, principal: Principal,
                       db_session: AsyncSession) -> AdminWorkspaceOut:
        """Set a workspace's tier: free, premium or enterprise (instance admin only)."""
        tenant = await services.set_tier(db_session, principal, workspace_id, data.tier)
        store = getattr(getattr(request.app.state, "ai", None), "store", None)
        if hasattr(store, "forget"):
            store.forget(tenant.id)   # AI nodes see the new tier at once, not after the tier cache's TTL
        return next(w for w in await services.all_workspaces(db_session) if w.id == tenant.id)
