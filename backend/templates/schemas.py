"""Bodies of /api/templates. Requests refuse unknown fields (templates come from strangers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.credentials.schemas import FindingOut
from backend.workflows.schemas import WorkflowOut

Visibility = Literal["private", "workspace", "public"]
SECRETS_FOUND = "Literal secret-looking values in node configs (flows/secrets_scan.py): offer to move them into credentials"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImportIn(_In):
    """Make a workflow draft from a template: its parameters (checked against the template's
    parameter schema, defaults filled in) and optionally the workflow's name."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)


class MergeIn(_In):
    """How to settle the conflicts of a template update: JSON pointer of a conflict (as
    template-update lists them) -> `mine` (keep the draft's value, the default) or `theirs`
    (take the template's). Applied in the same collaborative edit as the merge."""

    choices: dict[str, Literal["mine", "theirs"]] = Field(default_factory=dict, max_length=1_000)


class SaveAsTemplateIn(_In):
    """Save a workflow's draft as a template."""

    workflow_id: str
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5_000)
    category: str = Field(default="general", pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    tags: list[str] = Field(default_factory=list, max_length=20)
    icon: str = Field(default="workflow", pattern=r"^[a-z0-9-]{1,40}$")
    visibility: Visibility = "private"
    parameters: dict[str, Any] | None = Field(default=None, description="JSON Schema of the parameters")


class TemplateUpdateIn(_In):
    """Owner only. Metadata and sharing change in place; `workflow_id` (take that draft's
    graph) or `parameters` make a new version."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5_000)
    category: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    tags: list[str] | None = Field(default=None, max_length=20)
    icon: str | None = Field(default=None, pattern=r"^[a-z0-9-]{1,40}$")
    visibility: Visibility | None = None
    workflow_id: str | None = None
    parameters: dict[str, Any] | None = None


class TemplateSummaryOut(BaseModel):
    id: str
    builtin: bool
    title: str
    description: str
    category: str
    tags: list[str]
    icon: str
    version: int
    visibility: Visibility
    owner_id: str | None
    editable: bool                 # the caller may edit or delete it
    node_count: int
    ai_enhancements: int
    updated_at: datetime | None


class TemplateOut(TemplateSummaryOut):
    parameters: dict[str, Any]
    ai_enhancement_points: list[dict[str, Any]]
    sample_input: dict[str, Any]
    graph: dict[str, Any]          # with its {"$param": ...} placeholders, for a read-only preview
    document: dict[str, Any]       # the template file (export)


class ImportedTriggerOut(BaseModel):
    """A trigger the import created: the schedule or webhook as /api/workflows/{id}/schedules
    and /webhooks answer them, plus `type`. Schedules start disabled; a webhook's `secret`
    is shown here only (rotate it to get a new one)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["schedule", "webhook"]
    id: str


class TemplateImportOut(WorkflowOut):
    triggers: list[ImportedTriggerOut] = Field(default_factory=list)
    findings: list[FindingOut] = Field(default_factory=list, description=SECRETS_FOUND)


class TemplateUploadOut(TemplateOut):
    findings: list[FindingOut] = Field(default_factory=list, description=SECRETS_FOUND)


class TemplateListOut(BaseModel):
    items: list[TemplateSummaryOut]
    categories: list[str]          # of every template the caller sees (facets)
    tags: list[str]


class TemplateUpdateStatusOut(BaseModel):
    """Whether the workflow's template has a newer version and, when it has, the diff from the
    imported version, the conflicts a merge into the draft would have and `triggers`
    ({added, dropped}) it would bring."""

    model_config = ConfigDict(extra="allow")   # `triggers` only when an update is available

    workflow_id: str
    template_id: str | None
    current_version: int | None
    latest_version: int | None
    available: bool
    update_available: bool
    title: str | None
    diff: dict[str, Any] | None
    conflicts: list[dict[str, Any]]


class MergeOut(BaseModel):
    """The merge made: versions, whether the draft changed, the conflicts with the resolution
    applied, the draft's graph now and the triggers created and left in place."""

    workflow_id: str
    from_version: int
    to_version: int
    changed: bool
    conflicts: list[dict[str, Any]]
    graph: dict[str, Any]
    triggers_created: list[dict[str, Any]]
    triggers_dropped: list[dict[str, Any]]
