"""/api/workspaces: the caller's workspaces; create, rename; the current one with its tier's AI enhancements."""

from __future__ import annotations

from litestar import Controller, Request, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from backend.ai.store import ai_config
from backend.auth.schemas import Principal
from backend.workspaces import services
from backend.workspaces.schemas import (CurrentWorkspaceOut, WorkspaceCreateIn, WorkspaceOut, WorkspacePatchIn,
                                        WorkspacesOut)


class WorkspaceController(Controller):
    path = "/api/workspaces"
    tags = ["workspaces"]

    @get("/", operation_id="listWorkspaces")
    async def list_workspaces(self, principal: Principal, db_session: AsyncSession) -> WorkspacesOut:
        """The workspaces the caller belongs to, with their role in each (a token: its own only)."""
        return WorkspacesOut(items=await services.list_workspaces(db_session, principal))

    @post("/", operation_id="createWorkspace", status_code=201)
    async def create_workspace(self, data: WorkspaceCreateIn, principal: Principal, db_session: AsyncSession) -> WorkspaceOut:
        """A new workspace (tier free) with the caller as its owner; 409 when the slug is taken."""
        return await services.create_workspace(db_session, principal, data.name, data.slug)

    @get("/current", operation_id="currentWorkspace")
    async def current(self, request: Request, principal: Principal, db_session: AsyncSession) -> CurrentWorkspaceOut:
        """The current workspace, its tier and the AI enhancements that tier unlocks (docs/ai.md)."""
        out, tier = await services.current_workspace(db_session, principal)
        tier_models = ai_config(request.app.state.settings).tier_models
        return CurrentWorkspaceOut(**out.model_dump(),
                                   enhancements=services.enhancements(request.app.state.registry, tier_models, tier))

    @patch("/{workspace_id:str}", operation_id="renameWorkspace")
    async def rename(self, data: WorkspacePatchIn, workspace_id: str, principal: Principal,
                     db_session: AsyncSession) -> WorkspaceOut:
        """Rename a workspace (its owners); 404 for a workspace the caller is not in."""
        return await services.rename_workspace(db_session, principal, workspace_id, data.name)
