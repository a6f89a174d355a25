"""Request and response bodies of /api/credentials. No response model has a field for a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

NAME = Field(min_length=1, max_length=200)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateIn(_In):
    """A new credential: `data` holds the type's fields, secret ones included."""
    name: str = NAME
    type: str = Field(min_length=1, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict)


class PatchIn(_In):
    """Rename and/or replace some fields; a secret field left out keeps its value."""
    name: str | None = Field(default=None, min_length=1, max_length=200)
    data: dict[str, Any] | None = None


class TestIn(_In):
    """What to test against: the URL an http credential (bearer, basic, header, query) is sent to."""
    url: str | None = Field(default=None, max_length=2000)


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    graph: dict[str, Any]


class UsedByOut(BaseModel):
    workflow_id: str
    workflow_name: str
    node_ids: list[str]


class CredentialOut(BaseModel):
    id: str
    name: str
    type: str
    fields: dict[str, Any] | None = Field(default=None, description="Non-secret fields; absent for viewers")
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    used_by: list[UsedByOut] | None = None


class TypeFieldOut(BaseModel):
    name: str
    secret: bool
    required: bool
    kind: str
    options: list[Any] | None = None
    default: Any = None


class TypeOut(BaseModel):
    type: str
    title: str
    fields: list[TypeFieldOut]


class TestOut(BaseModel):
    ok: bool
    message: str


class FindingOut(BaseModel):
    node_id: str
    field: str = Field(description="JSON pointer into the node's config")
    kind: Literal["bearer", "basic", "key"]
    suggested_type: str
    message: str


class ScanOut(BaseModel):
    findings: list[FindingOut]
