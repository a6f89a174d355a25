"""The public approval page: GET shows the form of the link's node, POST decides (a form from the
page, or JSON from a client). No login: the signed link is the authority (backend/approvals/services.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import MediaType
from litestar.openapi.spec import OpenAPIType, Schema
from sqlalchemy.ext.asyncio import AsyncSession

from backend.approvals import page, services
from backend.approvals.schemas import LinkDecisionIn, LinkDecisionOut
from backend.bodies import raw_body, read_json, validate_body
from backend.errors import ApiError, Unprocessable

_HEADINGS = {404: "Link not valid", 409: "Already decided", 410: "Link expired", 403: "Link no longer valid"}


def _refusal(exc: ApiError) -> Response:
    return Response(page.message_page(_HEADINGS.get(exc.status, "Cannot decide"), exc.detail, alert=True),
                    status_code=exc.status, media_type=MediaType.HTML)


class ApprovalLinkController(Controller):
    path = "/api/approvals"
    tags = ["approvals"]

    @get("/{token:str}", operation_id="approvalPage", media_type=MediaType.HTML)
    async def show(self, request: Request, token: str, db_session: AsyncSession) -> Response:
        """Public. The approval form of the link's waiting node; a refusal page (404, 403, 409, 410) otherwise."""
        try:
            opened = await services.open_link(db_session, request.app.state.node_services.nodes.approval_links, token)
        except ApiError as exc:
            return _refusal(exc)
        return Response(page.form_page(opened.details, opened.claim.email, await services.shown_input(db_session, opened)),
                        media_type=MediaType.HTML)

    @post("/{token:str}", operation_id="decideByLink", status_code=200, media_type=MediaType.HTML,
          operation_class=raw_body("The page's form (decision and the form's fields), or JSON {decision, data}", {
              "application/json": Schema(type=OpenAPIType.OBJECT, required=["decision"], properties={
                  "decision": Schema(type=OpenAPIType.STRING, enum=["approved", "rejected"]),
                  "data": Schema(type=OpenAPIType.OBJECT)}),
              "application/x-www-form-urlencoded": Schema(type=OpenAPIType.OBJECT,
                                                          additional_properties=Schema(type=OpenAPIType.STRING))},
              required=True))
    async def decide(self, request: Request, token: str, db_session: AsyncSession) -> Response:
        """Public. Approve or reject with the form's data: the page's form (an HTML answer), or JSON
        `{decision, data}` (a `LinkDecisionOut`, or problem+json: 404 tampered, 403, 409 used, 410 expired, 422)."""
        if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
            body = validate_body(await read_json(request), LinkDecisionIn)
            opened, run = await services.decide(db_session, request.app.state, token, body.decision, body.data)
            out = LinkDecisionOut(run_id=run.id, node_id=opened.claim.node_id, decision=body.decision,
                                  decided_by=opened.claim.email, run_status=run.status)
            return Response(out, media_type=MediaType.JSON)
        return await self._decide_form(request, token, db_session)

    async def _decide_form(self, request: Request, token: str, db_session: AsyncSession) -> Response:
        posted: dict[str, Any] = dict(await request.form())
        decision = posted.pop("decision", "")
        try:
            opened = await services.open_link(db_session, request.app.state.node_services.nodes.approval_links, token)
            data = page.form_data(opened.details.get("form") or {}, posted)
            if decision not in ("approved", "rejected"):
                raise Unprocessable("choose Approve or Reject", problems=[{"field": "", "message": "choose Approve or Reject"}])
            await services.decide(db_session, request.app.state, token, decision, data)
        except Unprocessable as exc:
            shown = await services.shown_input(db_session, opened)
            return Response(page.form_page(opened.details, opened.claim.email, shown, posted,
                                           exc.extensions.get("problems") or [{"field": "", "message": exc.detail}]),
                            status_code=422, media_type=MediaType.HTML)
        except ApiError as exc:
            return _refusal(exc)
        verb = "approved" if decision == "approved" else "rejected"
        return Response(page.message_page(f"You {verb} it", f"Your decision ({verb}) was recorded as "
                                          f"{opened.claim.email}; the workflow goes on. This link is now used."),
                        media_type=MediaType.HTML)
