"""/api/templates (gallery, import, upload, save as, sharing) and
/api/workflows/{id}/template-update (updates and their merge). Logic lives in services.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_editor
from backend.auth.schemas import Principal
from backend.bodies import ANY_JSON, raw_body
from backend.errors import BadRequest, PayloadTooLarge
from backend.templates import services
from backend.templates.schemas import (ImportIn, MergeIn, MergeOut, SaveAsTemplateIn, TemplateImportOut,
                                       TemplateListOut, TemplateOut, TemplateUpdateIn, TemplateUpdateStatusOut,
                                       TemplateUploadOut, Visibility)
from backend.workflows.controllers import _out as workflow_out
from flows.jsonlimits import JsonLimitError, parse_limited
from flows.secrets_scan import scan_graph
from templates.format import MAX_TEMPLATE_BYTES, MAX_TEMPLATE_DEPTH


def _registry(request: Request) -> Any:
    return request.app.state.registry


class TemplateController(Controller):
    path = "/api/templates"
    tags = ["templates"]

    @get("/", operation_id="listTemplates")
    async def list_templates(self, request: Request, principal: Principal, db_session: AsyncSession,
                             q: str = Parameter(default="", max_length=200),
                             category: str = Parameter(default="", max_length=64),
                             tag: str = Parameter(default="", max_length=40)) -> TemplateListOut:
        """The gallery: built-in templates and every saved one the caller may see, searched
        (words in title, description, category, tags) and filtered; facets of all of them."""
        return TemplateListOut(**await services.list_templates(db_session, principal, _registry(request),
                                                                q=q, category=category, tag=tag))

    @get("/{template_id:str}", operation_id="getTemplate")
    async def get_template(self, request: Request, template_id: str, principal: Principal,
                           db_session: AsyncSession) -> TemplateOut:
        """One template with its parameter schema and graph (placeholders kept) for a read-only preview."""
        found = await services.get_template(db_session, principal, _registry(request), template_id)
        return TemplateOut(**found.detail(principal))

    @post("/{template_id:str}/import", operation_id="importTemplate", guards=[requires_editor], status_code=201)
    async def import_template(self, request: Request, data: ImportIn, template_id: str, principal: Principal,
                              db_session: AsyncSession) -> TemplateImportOut:
        """Create a workflow draft from the template and its parameters, with the triggers the
        template declares (schedules disabled); 422 naming the parameter that does not fit. Nothing is run."""
        base_url = request.app.state.settings.public_url or str(request.base_url)
        wf, triggers = await services.import_template(db_session, principal, _registry(request), template_id, data,
                                                      base_url)
        return TemplateImportOut(**workflow_out(wf, request).model_dump(), triggers=triggers,
                                 findings=scan_graph(wf.graph))

    @post("/upload", operation_id="uploadTemplate", guards=[requires_editor], status_code=201,
          operation_class=raw_body("A template file or a graph document (JSON, within the template limits)",
                                   {"application/json": ANY_JSON}, required=True))
    async def upload(self, request: Request, principal: Principal, db_session: AsyncSession,
                     visibility: Visibility = "private") -> TemplateUploadOut:
        """A template file or a graph document (file upload or pasted JSON), through the strict
        gate: no unknown keys, size/depth/count/string limits, catalogue node types only,
        no `__proto__`. Nothing is executed, fetched or resolved."""
        body = await request.body()
        if not body.strip():
            raise BadRequest("the request body is empty; send a template file (JSON)")
        try:
            raw = parse_limited(body, max_bytes=MAX_TEMPLATE_BYTES, max_depth=MAX_TEMPLATE_DEPTH)
        except JsonLimitError as exc:
            if exc.code == "too_large":
                raise PayloadTooLarge(exc.message, code=exc.code) from None
            raise BadRequest(exc.message, code=exc.code) from None
        found = await services.upload(db_session, principal, _registry(request), raw, visibility)
        detail = found.detail(principal)
        return TemplateUploadOut(**detail, findings=scan_graph(detail["graph"]))

    @post("/", operation_id="saveAsTemplate", guards=[requires_editor], status_code=201)
    async def save_as_template(self, request: Request, data: SaveAsTemplateIn, principal: Principal, db_session: AsyncSession) -> TemplateOut:
        """Save a workflow's draft as a template (private, workspace or public)."""
        found = await services.save_as_template(db_session, principal, _registry(request), data,
                                                request.app.state.collab)
        return TemplateOut(**found.detail(principal))

    @put("/{template_id:str}", operation_id="updateTemplate", guards=[requires_editor])
    async def update_template(self, request: Request, data: TemplateUpdateIn, template_id: str, principal: Principal,
                              db_session: AsyncSession) -> TemplateOut:
        """Owner only: metadata and sharing; a new graph (`workflow_id`) or parameters make a new version."""
        found = await services.update_template(db_session, principal, _registry(request), template_id, data,
                                               request.app.state.collab)
        return TemplateOut(**found.detail(principal))

    @delete("/{template_id:str}", operation_id="deleteTemplate", guards=[requires_editor],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_template(self, request: Request, template_id: str, principal: Principal,
                              db_session: AsyncSession) -> None:
        """Owner only. Workflows made from it keep working; they just get no more updates."""
        await services.delete_template(db_session, principal, _registry(request), template_id)


class TemplateUpdateController(Controller):
    path = "/api/workflows/{workflow_id:str}/template-update"
    tags = ["templates"]

    @get("/", operation_id="getTemplateUpdate")
    async def get_update(self, request: Request, workflow_id: str, principal: Principal,
                         db_session: AsyncSession) -> TemplateUpdateStatusOut:
        """Whether the workflow's template has a newer version, the diff from the imported
        version to it, the conflicts a merge into the current draft would have, and the triggers it
        would add (and those the template no longer declares, which a merge keeps)."""
        return TemplateUpdateStatusOut(**await services.template_update(db_session, principal, _registry(request),
                                                                        workflow_id, request.app.state.collab))

    @post("/merge", operation_id="mergeTemplateUpdate", guards=[requires_editor], status_code=200)
    async def merge(self, request: Request, workflow_id: str, principal: Principal, db_session: AsyncSession,
                    data: MergeIn | None = None) -> MergeOut:
        """Three-way merge of the newer version into the draft as a collaborative edit; the
        draft's own changes are kept; a conflict keeps the draft's value unless the body's
        `choices` takes the template's (409 when a choice names no current conflict). Triggers the new
        version declares and the workflow did not get yet are created, schedules disabled."""
        base_url = request.app.state.settings.public_url or str(request.base_url)
        return MergeOut(**await services.merge_update(db_session, principal, _registry(request), workflow_id,
                                                      request.app.state.collab, (data or MergeIn()).choices, base_url))


ROUTES = [TemplateController, TemplateUpdateController]
