"""/api/workflows: drafts, versions, publish, restore. Logic lives in services.py."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_editor
from backend.auth.schemas import Principal
from backend.db.models import Workflow, WorkflowVersion
from backend.errors import BadRequest
from backend.params import MAX_DB_INT, OFFSET, VersionNumber
from backend.workflows import services
from backend.workflows.diff import diff_graphs
from backend.workflows.schemas import (PublishIn, VersionDiffOut, VersionOut, VersionSummaryOut, WorkflowCreateIn,
                                       WorkflowOut, WorkflowSummaryOut, WorkflowUpdateIn)


def _summary(wf: Workflow) -> dict:
    return {k: getattr(wf, k) for k in WorkflowSummaryOut.model_fields}


def _out(wf: Workflow, request: Request | None = None, graph: dict | None = None) -> WorkflowOut:
    graph = wf.graph if graph is None else graph
    validation = services.validate(graph, request.app.state.registry).to_json() if request else None
    return WorkflowOut(**_summary(wf), graph=graph, validation=validation)


def _collab(request: Request):
    return request.app.state.collab


def _version(v: WorkflowVersion, with_graph: bool = True) -> VersionOut | VersionSummaryOut:
    fields = dict(workflow_id=v.workflow_id, version=v.version, note=v.note, created_by=v.created_by,
                  created_at=v.created_at)
    return VersionOut(**fields, graph=v.graph) if with_graph else VersionSummaryOut(**fields)


class WorkflowController(Controller):
    path = "/api/workflows"
    tags = ["workflows"]

    @post("/", operation_id="createWorkflow", guards=[requires_editor])
    async def create_workflow(self, request: Request, data: WorkflowCreateIn, principal: Principal, db_session: AsyncSession) -> WorkflowOut:
        """Create a workflow in the caller's tenant."""
        wf = await services.create_workflow(db_session, principal, data)
        return _out(wf, request)

    @get("/", operation_id="listWorkflows")
    async def list_workflows(
        self, principal: Principal, db_session: AsyncSession,
        limit: int = Parameter(default=50, ge=1, le=200), offset: int = OFFSET,
        order: services.Order = "updated",
    ) -> list[WorkflowSummaryOut]:
        """The tenant's workflows, without their graphs."""
        rows = await services.list_workflows(db_session, principal, limit=limit, offset=offset, order=order)
        return [WorkflowSummaryOut(**_summary(wf)) for wf in rows]

    @get("/{workflow_id:str}", operation_id="getWorkflow")
    async def get_workflow(self, request: Request, workflow_id: str, principal: Principal, db_session: AsyncSession) -> WorkflowOut:
        """One workflow with its draft graph and the draft's validation result."""
        wf = await services.get_workflow(db_session, principal, workflow_id)
        # The live document when people are editing it: Workflow.graph trails it by a flush.
        return _out(wf, request, await services.draft_graph(db_session, wf, _collab(request)))

    @put("/{workflow_id:str}", operation_id="updateWorkflow", guards=[requires_editor])
    async def update_workflow(self, request: Request, data: WorkflowUpdateIn, workflow_id: str, principal: Principal, db_session: AsyncSession) -> WorkflowOut:
        """Change name, description or draft graph; the answer includes the graph's validation."""
        return _out(await services.update_workflow(db_session, principal, workflow_id, data, _collab(request)),
                    request)

    @delete("/{workflow_id:str}", operation_id="deleteWorkflow", guards=[requires_editor], status_code=HTTP_204_NO_CONTENT)
    async def delete_workflow(self, workflow_id: str, principal: Principal, db_session: AsyncSession) -> None:
        """Delete a workflow (its runs stay readable)."""
        await services.delete_workflow(db_session, principal, workflow_id)

    @get("/{workflow_id:str}/versions", operation_id="listWorkflowVersions")
    async def list_versions(self, workflow_id: str, principal: Principal, db_session: AsyncSession) -> list[VersionSummaryOut]:
        """Published versions, newest first."""
        return [_version(v, False) for v in await services.list_versions(db_session, principal, workflow_id)]

    @get("/{workflow_id:str}/versions/{version:int}", operation_id="getWorkflowVersion")
    async def get_version(self, workflow_id: str, version: VersionNumber, principal: Principal, db_session: AsyncSession) -> VersionOut:
        """One published version with its frozen graph."""
        return _version(await services.get_version(db_session, principal, workflow_id, version))

    @post("/{workflow_id:str}/publish", operation_id="publishWorkflow", guards=[requires_editor], status_code=201)
    async def publish_workflow(self, request: Request, workflow_id: str, principal: Principal, db_session: AsyncSession,
                               data: PublishIn | None = None) -> VersionOut:
        """Freeze the draft as the next version; 422 with every problem if it has errors."""
        v = await services.publish(db_session, principal, workflow_id, request.app.state.registry,
                                   _collab(request), (data or PublishIn()).note)
        return _version(v)

    @post("/{workflow_id:str}/unpublish", operation_id="unpublishWorkflow", guards=[requires_editor], status_code=200)
    async def unpublish_workflow(self, request: Request, workflow_id: str, principal: Principal,
                                 db_session: AsyncSession) -> WorkflowOut:
        """Publish nothing: the versions stay, triggers of the published version stop until the next publish."""
        return _out(await services.unpublish(db_session, principal, workflow_id), request)

    @post("/{workflow_id:str}/versions/{version:int}/restore", operation_id="restoreWorkflowVersion",
          guards=[requires_editor], status_code=200)
    async def restore_version(self, request: Request, workflow_id: str, version: VersionNumber, principal: Principal,
                      db_session: AsyncSession) -> WorkflowOut:
        """Copy a published version's graph into the draft."""
        return _out(await services.restore(db_session, principal, workflow_id, version, _collab(request)), request)

    @get("/{workflow_id:str}/versions/diff", operation_id="diffWorkflowVersions")
    async def diff_versions(self, request: Request, workflow_id: str, principal: Principal, db_session: AsyncSession,
                            from_version: str, to_version: str = "draft") -> VersionDiffOut:
        """What changed from one version to another, or to the draft (`draft` for either side):
        nodes, edges and notes added, removed and changed, each change as a JSON pointer."""
        graphs = []
        for name, value in (("from_version", from_version), ("to_version", to_version)):
            if value == "draft":
                wf = await services.get_workflow(db_session, principal, workflow_id)
                graphs.append(await services.draft_graph(db_session, wf, _collab(request)))
            # isascii: str.isdigit also accepts '²', which int() refuses; the bound keeps it a database integer.
            elif value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_DB_INT:
                graphs.append((await services.get_version(db_session, principal, workflow_id, int(value))).graph)
            else:
                raise BadRequest(f"{name} must be a version number or 'draft'", field=name)
        return VersionDiffOut(from_version=from_version, to_version=to_version, **diff_graphs(*graphs))
