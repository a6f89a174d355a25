"""POST /api/workflows/import/n8n: an n8n workflow export becomes a draft. Logic in n8n_service.py."""

from __future__ import annotations

from litestar import Controller, Request, post
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_editor
from backend.auth.schemas import Principal
from backend.bodies import ANY_JSON, raw_body, read_json
from backend.credentials.controllers import keyring
from backend.workflows import services as workflows
from backend.workflows.n8n_service import N8nImportOut, import_n8n
from flows.secrets_scan import scan_graph
from templates.format import MAX_TEMPLATE_BYTES, MAX_TEMPLATE_DEPTH


class N8nImportController(Controller):
    path = "/api/workflows/import"
    tags = ["workflows"]

    @post("/n8n", operation_id="importN8nWorkflow", guards=[requires_editor], status_code=201,
          operation_class=raw_body("An n8n workflow export (the JSON n8n's Download writes)",
                                   {"application/json": ANY_JSON}, required=True))
    async def import_n8n(self, request: Request, principal: Principal, db_session: AsyncSession) -> N8nImportOut:
        """A new draft from an n8n export, with a report line per n8n node (mapped, partial, or unmapped and
        kept as a canvas note), empty vault entries for its credentials and its triggers (schedules disabled)."""
        raw = await read_json(request, max_depth=MAX_TEMPLATE_DEPTH, max_bytes=MAX_TEMPLATE_BYTES,
                              what="an n8n workflow export (JSON)")
        base_url = request.app.state.settings.public_url or str(request.base_url)
        wf, result, creds, triggers = await import_n8n(db_session, principal, keyring(request), raw, base_url)
        return N8nImportOut(id=wf.id, name=wf.name, report=result.report, credentials=creds, triggers=triggers,
                            findings=scan_graph(wf.graph),
                            validation=workflows.validate(wf.graph, request.app.state.registry).to_json())
