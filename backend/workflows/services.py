"""Workflows: drafts, immutable published versions, restore. Every query scopes on the
caller's tenant, so another tenant's id is simply not found (404, never 403)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.auth.schemas import Principal
from backend.collab.convert import check
from backend.db.models import Workflow, WorkflowVersion, looks_like_id, utcnow
from backend.db.scoped import find_scoped
from backend.errors import NotFound, Unprocessable
from backend.feeds.sync import stop_pollers, sync_pollers
from backend.workflows.schemas import WorkflowCreateIn, WorkflowUpdateIn
from flows.graph import SCHEMA_VERSION
from flows.validate import limit_problems, validate_graph
from nodes.registry import NodeRegistry

if TYPE_CHECKING:
    from backend.collab.rooms import RoomManager

Order = Literal["updated", "created", "name"]
_ORDER = {"updated": Workflow.updated_at.desc(), "created": Workflow.created_at.desc(), "name": Workflow.name}


def empty_graph(name: str) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "name": name, "nodes": [], "edges": []}


def validate(graph: Any, registry: NodeRegistry) -> Any:
    return validate_graph(graph, registry)


async def get_workflow(s: AsyncSession, p: Principal, workflow_id: str, *, lock: bool = False) -> Workflow:
    if not looks_like_id(workflow_id):
        raise NotFound(f"no workflow {workflow_id!r}")
    # lock: serialises publishes of one workflow on PostgreSQL
    wf = await find_scoped(s, Workflow, p.tenant_id, workflow_id, Workflow.deleted_at.is_(None), for_update=lock)
    if wf is None:
        raise NotFound(f"no workflow {workflow_id}")
    return wf


async def list_workflows(s: AsyncSession, p: Principal, *, limit: int, offset: int, order: Order) -> list[Workflow]:
    rows = await s.scalars(
        select(Workflow).where(Workflow.tenant_id == p.tenant_id, Workflow.deleted_at.is_(None))
        .order_by(_ORDER[order], Workflow.id).limit(limit).offset(offset)
    )
    return list(rows)


def _check_graph(graph: Any) -> None:
    check(graph)   # UnrepresentableGraph is a 422 naming the field (backend/errors.py)
    # The document limits are no draft error but a bound, as on the co-editing document.
    problems = limit_problems(graph)
    if problems:
        raise Unprocessable(f"the graph breaks a limit: {problems[0].message}", pointer=problems[0].pointer,
                            problems=[pr.to_json() for pr in problems])


async def create_workflow(s: AsyncSession, p: Principal, body: WorkflowCreateIn) -> Workflow:
    if body.graph is not None:
        _check_graph(body.graph)
    wf = Workflow(tenant_id=p.tenant_id, name=body.name, description=body.description,
                  graph=body.graph if body.graph is not None else empty_graph(body.name), created_by=p.user_id)
    s.add(wf)
    await s.flush()
    await audit.record(s, p, "workflow.create", "workflow", wf.id, {"name": wf.name})
    return wf


async def update_workflow(s: AsyncSession, p: Principal, workflow_id: str, body: WorkflowUpdateIn,
                          collab: RoomManager) -> Workflow:
    wf = await get_workflow(s, p, workflow_id)
    if body.graph is not None:
        # Through the shared document, before this session writes anything (the room's own
        # transaction writes the same row): connected editors get the
        # change as an ordinary edit, and their concurrent edits of other fields survive.
        _check_graph(body.graph)
        wf.graph = await collab.edit(wf.id, p.tenant_id, body.graph)
    if body.name is not None:
        wf.name = body.name
    if body.description is not None:
        wf.description = body.description
    wf.updated_at = utcnow()
    changed = [k for k in ("name", "description", "graph") if getattr(body, k) is not None]
    await audit.record(s, p, "workflow.update", "workflow", wf.id, {"fields": changed})
    await s.flush()
    return wf


async def delete_workflow(s: AsyncSession, p: Principal, workflow_id: str) -> None:
    # Soft delete: runs keep pointing at it and their history stays readable.
    wf = await get_workflow(s, p, workflow_id)
    wf.deleted_at = utcnow()
    await stop_pollers(s, wf.id)
    await audit.record(s, p, "workflow.delete", "workflow", wf.id, {"name": wf.name})


async def list_versions(s: AsyncSession, p: Principal, workflow_id: str) -> list[WorkflowVersion]:
    await get_workflow(s, p, workflow_id)
    rows = await s.scalars(
        select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id,
                                      WorkflowVersion.tenant_id == p.tenant_id)
        .order_by(WorkflowVersion.version.desc())
    )
    return list(rows)


async def get_version(s: AsyncSession, p: Principal, workflow_id: str, version: int) -> WorkflowVersion:
    await get_workflow(s, p, workflow_id)
    row = await s.scalar(
        select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id,
                                      WorkflowVersion.tenant_id == p.tenant_id, WorkflowVersion.version == version)
    )
    if row is None:
        raise NotFound(f"workflow {workflow_id} has no version {version}")
    return row


async def draft_graph(s: AsyncSession, wf: Workflow, collab: RoomManager) -> dict[str, Any]:
    """The draft as the shared document holds it right now (the live room's if open)."""
    return await collab.current_graph(s, wf.id, wf.graph)


async def publish(s: AsyncSession, p: Principal, workflow_id: str, registry: NodeRegistry, collab: RoomManager,
                  note: str = "") -> WorkflowVersion:
    """Freeze the draft as the next version; refuses (422, every problem listed) if it has errors."""
    wf = await get_workflow(s, p, workflow_id, lock=True)
    # The document, not Workflow.graph: that copy may be up to a flush interval behind.
    draft = await draft_graph(s, wf, collab)
    result = validate(draft, registry)
    if not result.ok:
        problems = [pr.to_json() for pr in result.problems]
        raise Unprocessable(f"the graph has {len(result.errors)} error(s); fix them before publishing",
                            problems=problems)
    last = await s.scalar(select(func.max(WorkflowVersion.version)).where(WorkflowVersion.workflow_id == wf.id))
    number = (last or 0) + 1
    # The canonical document (defaults filled in): what runs of this version will see.
    graph = result.document.model_dump(mode="json") if result.document is not None else draft
    version = WorkflowVersion(workflow_id=wf.id, tenant_id=p.tenant_id, version=number, graph=graph,
                              note=note, created_by=p.user_id)
    s.add(version)
    wf.published_version = number
    await sync_pollers(s, tenant_id=p.tenant_id, workflow_id=wf.id, user_id=p.user_id, graph=graph, version=number)
    await audit.record(s, p, "workflow.publish", "workflow", wf.id, {"version": number, "note": note})
    await s.flush()
    return version


async def unpublish(s: AsyncSession, p: Principal, workflow_id: str) -> Workflow:
    """Take the workflow out of service: nothing is published (its versions stay, a publish brings
    it back), so published triggers stop: webhooks answer 409, schedules record it, pollers stop."""
    wf = await get_workflow(s, p, workflow_id, lock=True)
    if wf.published_version is not None:
        await audit.record(s, p, "workflow.unpublish", "workflow", wf.id, {"version": wf.published_version})
        wf.published_version = None
        await stop_pollers(s, wf.id)
        await s.flush()
    return wf


async def restore(s: AsyncSession, p: Principal, workflow_id: str, version: int, collab: RoomManager) -> Workflow:
    """Copy a published version's graph into the draft (the versions stay as they are),
    through the shared document like any other edit."""
    row = await get_version(s, p, workflow_id, version)
    wf = await get_workflow(s, p, workflow_id)
    wf.graph = await collab.edit(wf.id, p.tenant_id, dict(row.graph))
    wf.updated_at = utcnow()
    await audit.record(s, p, "workflow.restore", "workflow", wf.id, {"version": version})
    await s.flush()
    return wf
