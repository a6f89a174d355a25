"""/api/workflows/{id}/panel/*: the node panel's last data, expression previews and test runs."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_editor
from backend.auth.schemas import Principal
from backend.panel import services
from backend.panel.schemas import LastDataOut, PreviewIn, PreviewOut, TestRunIn
from backend.runs.schemas import RunSummaryOut
from backend.workflows.services import get_workflow


def _state(request: Request) -> Any:
    return request.app.state


class PanelController(Controller):
    path = "/api/workflows/{workflow_id:str}/panel"
    tags = ["panel"]

    @get("/data", operation_id="getPanelData")
    async def get_data(self, workflow_id: str, principal: Principal, db_session: AsyncSession,
                       ids: list[str] | None = Parameter(query="node", default=None, max_items=500)) -> LastDataOut:
        """Each asked node's latest node run in the draft's recent runs, and the latest run's input."""
        wf = await get_workflow(db_session, principal, workflow_id)
        return await services.last_data(db_session, principal, wf, ids or [])

    @post("/preview", operation_id="previewExpression", guards=[requires_editor], status_code=HTTP_200_OK)
    async def preview(self, request: Request, data: PreviewIn, workflow_id: str, principal: Principal,
                      db_session: AsyncSession) -> PreviewOut:
        """Render an expression against the draft's pins and last run, in the runs' sandbox and limits."""
        wf = await get_workflow(db_session, principal, workflow_id)
        st = _state(request)
        return await services.preview(db_session, principal, wf, st.collab, st.registry, data.expression, data.node_id)

    @post("/test-runs", operation_id="startTestRun", guards=[requires_editor], status_code=HTTP_202_ACCEPTED)
    async def test_run(self, request: Request, data: TestRunIn, workflow_id: str, principal: Principal,
                       db_session: AsyncSession) -> RunSummaryOut:
        """Execute one node (upstream from pins or the last run), or run the path up to it; 409 asks
        about side effects first."""
        run = await services.start_test_run(db_session, principal, _state(request), workflow_id, data)
        return RunSummaryOut(**{k: getattr(run, k, None) for k in RunSummaryOut.model_fields})
