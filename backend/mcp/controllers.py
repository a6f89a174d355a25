"""/api/workflows/{id}/mcp: whether the workflow is a tool of the workspace's MCP server."""

from __future__ import annotations

from litestar import Controller, put
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_editor
from backend.auth.schemas import Principal
from backend.mcp import services
from backend.mcp.schemas import McpExposureIn, McpExposureOut


class McpExposureController(Controller):
    path = "/api/workflows"
    tags = ["workflows"]

    @put("/{workflow_id:str}/mcp", operation_id="setWorkflowMcpExposure", guards=[requires_editor])
    async def set_exposure(self, data: McpExposureIn, workflow_id: str, principal: Principal,
                           db_session: AsyncSession) -> McpExposureOut:
        """Offer the workflow's published version as a tool at /mcp, or stop offering it."""
        return await services.set_exposed(db_session, principal, workflow_id, data.exposed)
