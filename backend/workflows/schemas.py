"""Bodies of /api/workflows. Requests ignore unknown fields, `tenant_id` included: the
tenant always comes from the caller, never from the body."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WorkflowCreateIn(_In):
    """A new workflow; without `graph` it starts empty."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    graph: dict[str, Any] | None = Field(default=None, description="Graph document (GET /api/graph/schema)")


class WorkflowUpdateIn(_In):
    """Fields to change; absent fields are kept. A graph with errors is saved (it is a draft)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    graph: dict[str, Any] | None = None


class PublishIn(_In):
    """Optional body of publish."""

    note: str = Field(default="", max_length=2_000)


class WorkflowSummaryOut(BaseModel):
    id: str
    tenant_id: str
    name: str
    description: str
    published_version: int | None
    mcp_exposed: bool = Field(default=False, description="A tool of the workspace's MCP server (/mcp) once published")
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class WorkflowOut(WorkflowSummaryOut):
    graph: dict[str, Any]
    # validate_graph(...).to_json() of the draft: {ok, error_count, warning_count, problems}
    validation: dict[str, Any] | None = None


class VersionSummaryOut(BaseModel):
    workflow_id: str
    version: int
    note: str
    created_by: str | None
    created_at: datetime


class VersionOut(VersionSummaryOut):
    graph: dict[str, Any]


class ElementChangesOut(BaseModel):
    """Nodes, edges or notes of a diff: whole elements added and removed, fields changed."""

    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[dict[str, Any]]


class VersionDiffOut(BaseModel):
    """What changed between two versions, or a version and the draft; each change has a JSON pointer."""

    from_version: str
    to_version: str
    nodes: ElementChangesOut
    edges: ElementChangesOut
    notes: ElementChangesOut
    document: list[dict[str, Any]]
