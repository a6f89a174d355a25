"""Bodies of the approval link endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class LinkDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approved", "rejected"]
    data: dict[str, Any] = Field(default_factory=dict, description="The approval form's data")


class LinkDecisionOut(BaseModel):
    run_id: str
    node_id: str
    decision: Literal["approved", "rejected"]
    decided_by: str = Field(description="The approver's email address the link was mailed to")
    run_status: str
