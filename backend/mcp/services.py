"""The per-workflow `mcp_exposed` setting."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.auth.schemas import Principal
from backend.mcp.schemas import McpExposureOut
from backend.mcp.tools import tool_name
from backend.workflows.services import get_workflow


async def set_exposed(s: AsyncSession, p: Principal, workflow_id: str, exposed: bool) -> McpExposureOut:
    wf = await get_workflow(s, p, workflow_id)
    if wf.mcp_exposed != exposed:
        wf.mcp_exposed = exposed
        await audit.record(s, p, "workflow.mcp", "workflow", wf.id, {"exposed": exposed})
    await s.flush()
    return McpExposureOut(workflow_id=wf.id, exposed=exposed, tool_name=tool_name(wf.name, wf.id),
                          published=wf.published_version is not None)
