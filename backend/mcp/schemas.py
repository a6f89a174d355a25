"""Bodies of PUT /api/workflows/{id}/mcp."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class McpExposureIn(BaseModel):
    model_config = ConfigDict(extra="ignore")   # as every request body: unknown fields (tenant_id) are ignored

    exposed: bool = Field(description="Offer the workflow's published version as a tool of the workspace's MCP server")


class McpExposureOut(BaseModel):
    workflow_id: str
    exposed: bool
    tool_name: str = Field(description="The tool's name at /mcp: the workflow name as a slug and the id's first 8")
    published: bool = Field(description="Whether it has a published version (a tool only once it has)")
