"""Request and response bodies of /api/workspaces and /api/admin/workspaces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$"


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WorkspaceCreateIn(_In):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, pattern=SLUG_PATTERN,
                             description="Lower-case letters, digits and dashes; default: made from the name")


class WorkspacePatchIn(_In):
    name: str = Field(min_length=1, max_length=200)


class TierIn(_In):
    tier: Literal["free", "premium", "enterprise"]


class WorkspaceOut(BaseModel):
    id: str
    name: str
    slug: str
    tier: str
    role: str


class WorkspacesOut(BaseModel):
    items: list[WorkspaceOut]


class EnhancementOut(BaseModel):
    key: str = Field(description="The AI node type, e.g. ai.classify")
    name: str
    description: str
    tiers: list[str] = Field(description="Tiers whose model chain is not empty: a model answers, not the baseline")
    unlocked: bool = Field(description="This workspace's tier is one of `tiers`")


class CurrentWorkspaceOut(WorkspaceOut):
    enhancements: list[EnhancementOut]


class AdminWorkspaceOut(BaseModel):
    id: str
    name: str
    slug: str
    tier: str
    members: int
    created_at: datetime


class AdminWorkspacesOut(BaseModel):
    items: list[AdminWorkspaceOut]
