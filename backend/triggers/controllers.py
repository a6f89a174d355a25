"""/api/workflows/{id}/webhooks|schedules|chains and the public /hooks/{webhook_id}.
Logic lives in services.py (CRUD), hooks.py (deliveries) and runtime.py (firing)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post, put, route
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_editor
from backend.auth.schemas import Principal
from backend.bodies import ANY_JSON, raw_body
from backend.triggers import deliveries, hooks, services
from backend.triggers.schemas import (ChainCreateIn, ChainOut, ScheduleCreateIn, ScheduleOut, SchedulePreviewOut,
                                      ScheduleUpdateIn, WebhookAcceptedOut, WebhookCreatedOut, WebhookCreateIn,
                                      WebhookDeliveryOut, WebhookOut, WebhookTestIn, WebhookTestOut, WebhookUpdateIn)


def _base_url(request: Request[Any, Any, Any]) -> str:
    return request.app.state.settings.public_url or str(request.base_url)


class TriggerController(Controller):
    path = "/api/workflows/{workflow_id:str}"
    tags = ["triggers"]

    # --- webhooks -----------------------------------------------------------------------

    @post("/webhooks", operation_id="createWebhook", guards=[requires_editor], status_code=HTTP_201_CREATED)
    async def create_webhook(self, request: Request, workflow_id: str, principal: Principal,
                             db_session: AsyncSession, data: WebhookCreateIn | None = None) -> WebhookCreatedOut:
        """A webhook URL for this workflow, with its signing secret (shown only in this answer)."""
        hook, secret = await services.create_webhook(db_session, principal, workflow_id, data or WebhookCreateIn())
        return WebhookCreatedOut(**services.webhook_out(hook, _base_url(request)).model_dump(), secret=secret)

    @get("/webhooks", operation_id="listWebhooks")
    async def list_webhooks(self, request: Request, workflow_id: str, principal: Principal,
                            db_session: AsyncSession) -> list[WebhookOut]:
        """The workflow's webhooks (without secrets)."""
        rows = await services.list_webhooks(db_session, principal, workflow_id)
        return [services.webhook_out(h, _base_url(request)) for h in rows]

    @get("/webhooks/{webhook_id:str}", operation_id="getWebhook")
    async def get_webhook(self, request: Request, workflow_id: str, webhook_id: str, principal: Principal,
                          db_session: AsyncSession) -> WebhookOut:
        hook = await services.get_webhook(db_session, principal, workflow_id, webhook_id)
        return services.webhook_out(hook, _base_url(request))

    @put("/webhooks/{webhook_id:str}", operation_id="updateWebhook", guards=[requires_editor])
    async def update_webhook(self, request: Request, data: WebhookUpdateIn, workflow_id: str, webhook_id: str, principal: Principal,
                             db_session: AsyncSession) -> WebhookOut:
        """Change source, allow_token or description; absent fields are kept."""
        hook = await services.update_webhook(db_session, principal, workflow_id, webhook_id, data)
        return services.webhook_out(hook, _base_url(request))

    @post("/webhooks/{webhook_id:str}/rotate", operation_id="rotateWebhookSecret", guards=[requires_editor],
          status_code=HTTP_201_CREATED)
    async def rotate_webhook(self, request: Request, workflow_id: str, webhook_id: str, principal: Principal,
                             db_session: AsyncSession) -> WebhookCreatedOut:
        """A new secret (shown only in this answer); the old one stops working at once."""
        hook, secret = await services.rotate_webhook(db_session, principal, workflow_id, webhook_id)
        return WebhookCreatedOut(**services.webhook_out(hook, _base_url(request)).model_dump(), secret=secret)

    @get("/webhooks/{webhook_id:str}/deliveries", operation_id="listWebhookDeliveries")
    async def list_deliveries(self, workflow_id: str, webhook_id: str, principal: Principal,
                              db_session: AsyncSession) -> list[WebhookDeliveryOut]:
        """The last 20 accepted deliveries, newest first, with the status of the run each started."""
        return await deliveries.list_deliveries(db_session, principal, workflow_id, webhook_id)

    @post("/webhooks/{webhook_id:str}/test", operation_id="testWebhook", guards=[requires_editor],
          status_code=HTTP_200_OK)
    async def test_webhook(self, request: Request, workflow_id: str, webhook_id: str, principal: Principal,
                           db_session: AsyncSession, data: WebhookTestIn | None = None) -> WebhookTestOut:
        """Send a sample delivery signed with the webhook's secret; answers what the webhook answered."""
        return await deliveries.send_test(request.app, db_session, principal, workflow_id, webhook_id,
                                          data or WebhookTestIn())

    @delete("/webhooks/{webhook_id:str}", operation_id="deleteWebhook", guards=[requires_editor],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_webhook(self, workflow_id: str, webhook_id: str, principal: Principal,
                             db_session: AsyncSession) -> None:
        await services.delete_webhook(db_session, principal, workflow_id, webhook_id)

    # --- schedules ----------------------------------------------------------------------

    @post("/schedules", operation_id="createSchedule", guards=[requires_editor], status_code=HTTP_201_CREATED)
    async def create_schedule(self, data: ScheduleCreateIn, workflow_id: str, principal: Principal,
                              db_session: AsyncSession) -> ScheduleOut:
        """Run the workflow on a cron schedule in an IANA time zone; the answer lists the next fire times."""
        return services.schedule_out(await services.create_schedule(db_session, principal, workflow_id, data))

    @get("/schedules", operation_id="listSchedules")
    async def list_schedules(self, workflow_id: str, principal: Principal, db_session: AsyncSession) -> list[ScheduleOut]:
        return [services.schedule_out(x) for x in await services.list_schedules(db_session, principal, workflow_id)]

    @get("/schedules/preview", operation_id="previewSchedule")
    async def preview_schedule(self, workflow_id: str, principal: Principal, db_session: AsyncSession,
                               cron: str | None = None, timezone: str | None = None) -> SchedulePreviewOut:
        """The next five fire times of a cron in a time zone, without saving it (a bad one is 422 naming it)."""
        return await services.preview_schedule(db_session, principal, workflow_id, cron, timezone)

    @get("/schedules/{schedule_id:str}", operation_id="getSchedule")
    async def get_schedule(self, workflow_id: str, schedule_id: str, principal: Principal,
                           db_session: AsyncSession) -> ScheduleOut:
        return services.schedule_out(await services.get_schedule(db_session, principal, workflow_id, schedule_id))

    @put("/schedules/{schedule_id:str}", operation_id="updateSchedule", guards=[requires_editor])
    async def update_schedule(self, data: ScheduleUpdateIn, workflow_id: str, schedule_id: str, principal: Principal,
                              db_session: AsyncSession) -> ScheduleOut:
        """Change cron, timezone, enabled, input or source; absent fields are kept. The next fire time is recomputed."""
        sch = await services.update_schedule(db_session, principal, workflow_id, schedule_id, data)
        return services.schedule_out(sch)

    @delete("/schedules/{schedule_id:str}", operation_id="deleteSchedule", guards=[requires_editor],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_schedule(self, workflow_id: str, schedule_id: str, principal: Principal,
                              db_session: AsyncSession) -> None:
        await services.delete_schedule(db_session, principal, workflow_id, schedule_id)

    # --- chains -------------------------------------------------------------------------

    @post("/chains", operation_id="createChain", guards=[requires_editor], status_code=HTTP_201_CREATED)
    async def create_chain(self, data: ChainCreateIn, workflow_id: str, principal: Principal,
                           db_session: AsyncSession) -> ChainOut:
        """When a run of this workflow ends with a status in `on`, start a run of the target.
        A chain that would close a cycle is refused (422)."""
        return services.chain_out(await services.create_chain(db_session, principal, workflow_id, data))

    @get("/chains", operation_id="listChains")
    async def list_chains(self, workflow_id: str, principal: Principal, db_session: AsyncSession) -> list[ChainOut]:
        """Chains out of this workflow and into it."""
        return [services.chain_out(c) for c in await services.list_chains(db_session, principal, workflow_id)]

    @delete("/chains/{chain_id:str}", operation_id="deleteChain", guards=[requires_editor],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_chain(self, workflow_id: str, chain_id: str, principal: Principal,
                           db_session: AsyncSession) -> None:
        await services.delete_chain(db_session, principal, workflow_id, chain_id)


def _delivery_operation_id(_handler: Any, method: Any, _path: Any) -> str:
    """deliverWebhook for POST; deliverWebhookGet, deliverWebhookPut... for the other methods."""
    name = str(getattr(method, "value", method)).upper()
    return "deliverWebhook" if name == "POST" else "deliverWebhook" + name.title()


@route("/hooks/{webhook_id:str}", http_method=["GET", "POST", "PUT", "PATCH", "DELETE"],
       operation_id=_delivery_operation_id, status_code=HTTP_202_ACCEPTED, tags=["triggers"], security=[],
       operation_class=raw_body("Any JSON, form or text document (hooks.py reads it under the webhook's own cap)", {
           "application/json": ANY_JSON,
           "application/x-www-form-urlencoded": Schema(type=OpenAPIType.OBJECT,
                                                      additional_properties=Schema(type=OpenAPIType.STRING)),
           "text/plain": Schema(type=OpenAPIType.STRING)}, required=False))
async def deliver_webhook(request: Request, webhook_id: str, db_session: AsyncSession) -> WebhookAcceptedOut:
    """Public webhook endpoint: no login. Sign with X-Maily-Signature: sha256=<hex HMAC-SHA256 of
    "<X-Maily-Timestamp>.<raw body>"> and X-Maily-Timestamp (Unix seconds, within 5 minutes), or
    pass ?token=<secret> if the webhook allows it. Answers 202 with the id of the run it started; a
    webhook whose `respond` is when_done or node answers what the run produced (or 504 with the run id)."""
    return await hooks.deliver(request, db_session, webhook_id)
