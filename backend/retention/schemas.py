"""Bodies of /api/retention: the workspace's policy and what a prune removes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RetentionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    keep_days: int = Field(ge=1, le=3650, description="Ended runs older than this many days are pruned")
    max_per_workflow: int | None = Field(ge=1, le=1_000_000, description="Keep at most this many runs per "
                                         "workflow, the newest (null: no cap)")


class RetentionOut(BaseModel):
    keep_days: int
    max_per_workflow: int | None
    kept_always: list[str] = Field(description="What is never pruned, whatever its age")


class PruneReportOut(BaseModel):
    """Counts of what a prune removed (or, in a dry run, would remove)."""

    dry_run: bool
    runs: int = 0
    node_runs: int = 0
    events: int = 0
    outbox: int = 0
    run_ids: list[str] = Field(default_factory=list, description="The first runs concerned (at most 100)")
