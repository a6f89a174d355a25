"""Bodies of /api/runs. Requests ignore unknown fields, `tenant_id` included."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.params import VersionField

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "waiting", "paused"]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StartWorkflowRunIn(_In):
    """Start a run of a saved workflow. Default: its draft, as the editor shows it."""

    input: dict[str, Any] = Field(default_factory=dict, description="The run input, the trigger's output")
    source: Literal["draft", "published"] = Field(default="draft", description="Which graph to run")
    version: VersionField | None = Field(default=None, description="Run this published version")


class StartGraphRunIn(_In):
    """Start a run of a graph sent in the request (not saved as a workflow)."""

    graph: dict[str, Any] = Field(description="Graph document (GET /api/graph/schema)")
    input: dict[str, Any] = Field(default_factory=dict)


class RunSummaryOut(BaseModel):
    id: str
    tenant_id: str
    workflow_id: str | None
    workflow_version: int | None
    status: str
    trigger: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: Any = None
    # run control: a waiting run's nodes and when it resumes (None: on a decision); a retry or
    # re-run names the run it reuses; a queued run its place in its tenant's queue (1 = next)
    resume_at: datetime | None = None
    waiting_on: list[dict[str, Any]] | None = None
    retry_of: str | None = None
    rerun_from: str | None = None
    root_run_id: str | None = None     # the first run of the retry / re-run lineage (email keys use it)
    queue_position: int | None = None
    # flow.subworkflow: the run and node that started this run as a child (None: not a child)
    parent_run_id: str | None = None
    parent_node_id: str | None = None


class QueueOut(BaseModel):
    """The tenant's runs holding a slot and those queued for one (waiting runs hold none)."""

    limit: int = Field(description="Runs this tenant may have running at once")
    running: list[RunSummaryOut]
    queued: list[RunSummaryOut] = Field(description="First in line first; each with its queue_position")
    prefect_backlog: int = Field(0, description="Runs of this app process (any tenant) whose Prefect record "
                                                "(flow run, task runs) is still being written; they run meanwhile")


class RerunIn(_In):
    from_node: str = Field(description="Run this node and everything downstream of it again; reuse the rest")
    repeat: list[str] = Field(default_factory=list, description="Nodes whose side effect (unkeyed: a repeat repeats it) "
                              "already happened in the run and may happen again; the others reuse their output")


class InterruptedDecisionIn(_In):
    node_id: str = Field(description="The node the crash interrupted (the run's waiting_on names it, reason `interrupted`)")
    action: Literal["rerun", "skip"] = Field(description="rerun: execute it again; skip: go on as if it had "
                                                         "completed, its output {\"skipped_after_crash\": true}")


class NodeRunOut(BaseModel):
    node_id: str
    node_type: str
    iteration: int | None
    status: str
    attempts: int
    started_at: datetime | None
    finished_at: datetime | None
    input: Any = None
    output: Any = None
    error: Any = None


class ChildRunOut(BaseModel):
    """A run this run started through a flow.subworkflow node."""

    id: str
    node_id: str | None = Field(description="The flow.subworkflow node that started it")
    workflow_id: str | None
    status: str
    created_at: datetime


class RunOut(RunSummaryOut):
    input: Any = None
    output: Any = None
    prefect_flow_run_id: str | None = None
    graph: dict[str, Any]
    nodes: list[NodeRunOut]
    children: list[ChildRunOut] = Field(default_factory=list, description="Runs its flow.subworkflow nodes started")


class RunEventOut(BaseModel):
    seq: int
    kind: str
    status: str
    node_id: str | None
    at: datetime
    data: dict[str, Any]


class ReplayIn(_In):
    source: Literal["run", "draft"] = Field(default="run", description="run: the graph that ran (its snapshot); "
                                                                        "draft: the workflow's draft as it is now")


class NodeSideOut(BaseModel):
    status: str
    output: Any = None
    error: Any = None


class NodeCompareOut(BaseModel):
    node_id: str
    iteration: int | None = Field(description="The item's index inside a logic.for_each, else null")
    node_type: str
    a: NodeSideOut | None = Field(description="The node in run a (null: it did not run there)")
    b: NodeSideOut | None = Field(description="The node in run b (null: it did not run there)")
    same: bool = Field(description="Both ran, with equal outputs and errors (JSON equality)")


class RunCompareOut(BaseModel):
    """Two runs side by side, node by node, in run a's order then the nodes only run b has."""

    a: str
    b: str
    same_output: bool = Field(description="The runs' final outputs are equal")
    differing: int = Field(description="How many node rows are not `same`")
    nodes: list[NodeCompareOut]
