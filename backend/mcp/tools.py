"""A workspace's published workflows as MCP tools: which ones, under which name and input schema,
and a call as a run started like the REST API starts one, waited for on the event bus.

A workflow is a tool while it has `mcp_exposed` set, a published version, and that version's
trigger is `trigger.manual` (the tool's arguments are the run input, checked against its
`input_schema`) or `trigger.webhook` (the arguments are the request body, checked against its
`body_schema`). See docs/integrations.md#mcp."""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.schemas import Principal
from backend.db.models import Workflow, WorkflowVersion
from backend.runs.services import start_run
from flows.events import EventBus
from nodes.user_schema import SchemaError, ValidationError, validate_user_schema

TRIGGERS = ("trigger.manual", "trigger.webhook")
_SCHEMA_FIELD = {"trigger.manual": "input_schema", "trigger.webhook": "body_schema"}
_WRAPPED = "input"   # the one argument of a tool whose trigger's schema is not an object's


@dataclass(frozen=True)
class WorkflowTool:
    name: str
    description: str
    input_schema: dict[str, Any]
    workflow_id: str
    version: int
    graph: dict[str, Any]
    trigger: dict[str, Any]          # the trigger node of the published graph
    wrapped: bool                    # the arguments hold the trigger's value under "input"


class ToolFailed(Exception):
    """A tool call that ends in an MCP tool error result carrying this message."""


def tool_name(name: str, workflow_id: str) -> str:
    """A stable name: the workflow name as a slug (40 characters at most) and the id's first 8."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40].strip("_") or "workflow"
    return f"{slug}_{workflow_id[:8]}"


def _trigger(graph: dict[str, Any]) -> dict[str, Any] | None:
    for node in graph.get("nodes") or ():
        if isinstance(node, dict) and node.get("type") in TRIGGERS:
            return node
    return None


def _input_schema(trigger: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    schema = (trigger.get("config") or {}).get(_SCHEMA_FIELD[trigger["type"]])
    if not isinstance(schema, dict) or not schema:
        return {"type": "object"}, False
    if schema.get("type") == "object" or ("type" not in schema and "properties" in schema):
        return {**schema, "type": "object"}, False
    if trigger["type"] == "trigger.manual":   # a run input is an object: such a schema refuses every call
        return {"type": "object"}, False
    # a webhook body may be any JSON value: the tool takes it as its one argument
    return {"type": "object", "properties": {_WRAPPED: schema}, "required": [_WRAPPED]}, True


def as_tool(wf: Workflow, version: WorkflowVersion) -> WorkflowTool | None:
    """The tool a published workflow is, or None when its trigger is neither manual nor webhook."""
    trigger = _trigger(version.graph if isinstance(version.graph, dict) else {})
    if trigger is None:
        return None
    schema, wrapped = _input_schema(trigger)
    description = wf.description.strip() or f"Runs the workflow {wf.name!r} and returns its output."
    return WorkflowTool(name=tool_name(wf.name, wf.id), description=description, input_schema=schema,
                        workflow_id=wf.id, version=version.version, graph=version.graph, trigger=trigger,
                        wrapped=wrapped)


async def exposed_tools(s: AsyncSession, tenant_id: str) -> list[WorkflowTool]:
    """The workspace's exposed, published workflows with a manual or webhook trigger, by name."""
    rows = await s.execute(
        select(Workflow, WorkflowVersion)
        .join(WorkflowVersion, (WorkflowVersion.workflow_id == Workflow.id)
              & (WorkflowVersion.version == Workflow.published_version))
        .where(Workflow.tenant_id == tenant_id, Workflow.deleted_at.is_(None), Workflow.mcp_exposed.is_(True))
        .order_by(Workflow.name, Workflow.id)
    )
    return [t for wf, v in rows.all() if (t := as_tool(wf, v)) is not None]


def payload_of(tool: WorkflowTool, arguments: dict[str, Any]) -> dict[str, Any]:
    """The run input for the arguments, checked against the trigger's schema (ToolFailed naming the place)."""
    value: Any = arguments.get(_WRAPPED) if tool.wrapped else arguments
    schema = (tool.trigger.get("config") or {}).get(_SCHEMA_FIELD[tool.trigger["type"]])
    if schema:
        try:
            validate_user_schema(value, schema)
        except ValidationError as e:
            where = "/".join(str(p) for p in e.absolute_path)
            raise ToolFailed(f"the arguments do not match the tool's input schema at /{where}: {e.message}") from None
        except SchemaError as e:
            raise ToolFailed(f"the workflow's trigger schema is not a valid JSON Schema: {e.message}") from None
    if tool.trigger["type"] == "trigger.manual":
        return value
    methods = (tool.trigger.get("config") or {}).get("methods") or ["POST"]
    method = "POST" if "POST" in methods else methods[0]
    return {"method": method, "path": "/mcp", "headers": {}, "query": {}, "body": value}


async def start(state: Any, s: AsyncSession, p: Principal, tool: WorkflowTool, arguments: dict[str, Any]) -> str:
    """Start a run of the tool's published version as POST /api/workflows/{id}/runs does; its id."""
    if p.role not in ("owner", "editor"):
        raise ToolFailed(f"your role in this workspace is {p.role}; running a workflow needs editor or owner")
    run = await start_run(s, p, state.runner, state.recorder, state.registry, graph=tool.graph,
                          payload=payload_of(tool, arguments), trigger="mcp", workflow_id=tool.workflow_id,
                          version=tool.version)
    return run.id


async def outcome(bus: EventBus, run_id: str, timeout_s: float) -> Any:
    """The run's output once it succeeds; ToolFailed with the message when it fails, is cancelled,
    stops to wait, or takes longer than timeout_s (the run then goes on)."""
    try:
        async with asyncio.timeout(timeout_s), aclosing(bus.subscribe(run_id)) as events:
            async for event in events:
                if event.kind == "run.succeeded":
                    return event.data.get("output")
                if event.kind == "run.failed":
                    error = event.data.get("error") or {}
                    where = f" at node {error['node_id']!r}" if error.get("node_id") else ""
                    raise ToolFailed(f"the workflow failed{where}: {error.get('message') or 'no message'} "
                                     f"(run {run_id})")
                if event.kind == "run.cancelled":
                    raise ToolFailed(f"the run {run_id} was cancelled")
                if event.kind in ("run.waiting", "run.paused"):
                    raise ToolFailed(f"the run {run_id} is {event.status} (an approval or a delay); "
                                     "it goes on without answering this call")
    except TimeoutError:
        pass
    raise ToolFailed(f"the workflow did not finish within {timeout_s:g} s; run {run_id} goes on")


def result_text(output: Any) -> str:
    return output if isinstance(output, str) else json.dumps(output, ensure_ascii=False, default=str)
