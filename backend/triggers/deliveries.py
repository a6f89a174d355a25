"""What the editor's Triggers panel shows of a webhook: its last deliveries and a test delivery.

Deliveries are read from the runs they started (trigger "webhook", input.path /hooks/{id}):
the webhook_deliveries table only remembers signatures for replay protection, and a refused
delivery starts no run, so only accepted ones are listed.

The test delivery is signed here, with the secret the browser never sees again after create
or rotate, and goes through the app itself (the ASGI app in-process, not the network), so it
takes exactly the path a sender's request takes: signature, method, content type, body schema,
replay guard, then a run."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.schemas import Principal
from backend.db.models import Run
from backend.triggers.hooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from backend.triggers.schemas import WebhookDeliveryOut, WebhookTestIn, WebhookTestOut
from backend.triggers.services import get_webhook, webhook_secret

DELIVERIES_SHOWN = 20


def _error_text(error: Any) -> str | None:
    if error is None:
        return None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("detail") or json.dumps(error))
    return str(error)


async def list_deliveries(s: AsyncSession, p: Principal, workflow_id: str, webhook_id: str,
                          limit: int = DELIVERIES_SHOWN) -> list[WebhookDeliveryOut]:
    hook = await get_webhook(s, p, workflow_id, webhook_id)
    runs = await s.scalars(select(Run).where(Run.tenant_id == p.tenant_id, Run.workflow_id == workflow_id,
                                             Run.trigger == "webhook",
                                             Run.input["path"].as_string() == f"/hooks/{hook.id}")
                           .order_by(Run.created_at.desc(), Run.id.desc()).limit(limit))
    return [WebhookDeliveryOut(run_id=r.id, method=str((r.input or {}).get("method") or "POST"), status=r.status,
                               received_at=r.created_at, finished_at=r.finished_at, error=_error_text(r.error))
            for r in runs]


async def send_test(app: Litestar, s: AsyncSession, p: Principal, workflow_id: str, webhook_id: str,
                    body: WebhookTestIn) -> WebhookTestOut:
    hook = await get_webhook(s, p, workflow_id, webhook_id)
    secret, path = webhook_secret(hook), f"/hooks/{hook.id}"
    # End this request's read transaction first: the delivery writes a run in its own session
    # (and this one's connection goes back to the pool meanwhile).
    await s.rollback()
    raw = b"" if body.method == "GET" else json.dumps(body.body).encode()
    stamp = int(time.time())
    headers = {SIGNATURE_HEADER: sign(secret, stamp, raw), TIMESTAMP_HEADER: str(stamp),
               "Content-Type": "application/json", "User-Agent": "maily-flow-test-delivery"}
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
    async with httpx.AsyncClient(transport=transport, base_url="http://maily.internal") as client:
        answer = await client.request(body.method, path, content=raw, headers=headers)
    try:
        data: Any = answer.json()
    except ValueError:
        data = answer.text
    # a synchronous webhook (respond when_done / node) names its run in a header, whatever it answered
    run_id = answer.headers.get("x-maily-run-id") or (
        data.get("run_id") if isinstance(data, dict) and answer.status_code == 202 else None)
    return WebhookTestOut(status=answer.status_code, body=data, run_id=run_id)
