"""Import of an n8n workflow export: the pure mapping (templates/n8n) gives the graph, the report
and what to create; this stores them in the caller's workspace. Everything is created in the
request's transaction: the workflow (a draft), an empty vault entry per n8n credential (one already
there with that name and type is reused), and the triggers (schedules disabled, webhooks with their
secret shown once), as a template import does. Nothing is run or fetched."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.schemas import Principal
from backend.credentials import services as credentials
from backend.credentials.envelope import Keyring
from backend.errors import Unprocessable
from backend.triggers import services as trigger_services
from backend.triggers.schemas import ScheduleCreateIn, WebhookCreateIn
from backend.workflows import services as workflows
from backend.workflows.schemas import WorkflowCreateIn
from templates.n8n import N8nExportError, N8nImport, convert


class ReportLine(BaseModel):
    node: str = Field(description="The n8n node's name")
    n8n_type: str
    status: str = Field(description="mapped | partial | unmapped (kept as a canvas note with its JSON)")
    notes: list[str]
    node_ids: list[str] = Field(description="Our node ids it became (empty when unmapped)")


class ImportedCredential(BaseModel):
    id: str
    name: str
    type: str
    created: bool = Field(description="false: an entry of that name and type was already there and is used")
    node_ids: list[str]


class N8nImportOut(BaseModel):
    id: str
    name: str
    report: list[ReportLine]
    credentials: list[ImportedCredential]
    triggers: list[dict[str, Any]] = Field(description="Schedules (created disabled) and webhooks (with the "
                                                       "secret, shown only here)")
    findings: list[dict[str, Any]] = Field(description="Literal secrets in the new graph, as POST /api/credentials/scan")
    validation: dict[str, Any]


def mapped(raw: Any) -> N8nImport:
    try:
        return convert(raw)
    except N8nExportError as exc:
        raise Unprocessable(exc.message, pointer=exc.pointer, field=exc.pointer.lstrip("/").replace("/", ".")) from None


async def _credentials(s: AsyncSession, p: Principal, keyring: Keyring, result: N8nImport) -> list[ImportedCredential]:
    existing = {(c.name, c.type): c for c in await credentials.list_all(s, p.tenant_id)}
    out: dict[tuple[str, str], ImportedCredential] = {}
    nodes = {n["id"]: n for n in result.graph["nodes"]}
    for need in result.credentials:
        key = (need.name, need.type)
        if key not in out:
            row, created = existing.get(key), False
            if row is None:
                name, k = need.name, 2
                while any(name == n for n, _ in existing):      # the name is taken by another type
                    name, k = f"{need.name} {k}"[:200], k + 1
                row, created = await credentials.create_placeholder(s, p, keyring, name, need.type), True
                existing[(row.name, row.type)] = row
            out[key] = ImportedCredential(id=row.id, name=row.name, type=row.type, created=created, node_ids=[])
        nodes[need.node_id]["config"][need.field] = out[key].id
        out[key].node_ids.append(need.node_id)
    return list(out.values())


async def _triggers(s: AsyncSession, p: Principal, workflow_id: str, result: N8nImport,
                    base_url: str) -> list[dict[str, Any]]:
    out = []
    for t in result.triggers:
        if t.type == "schedule":
            sch = await trigger_services.create_schedule(s, p, workflow_id, ScheduleCreateIn(
                cron=t.data["cron"], timezone=t.data["timezone"], enabled=False, source="published"))
            out.append({"type": "schedule", "node_id": t.node_id,
                        **trigger_services.schedule_out(sch).model_dump(mode="json")})
        else:
            hook, secret = await trigger_services.create_webhook(s, p, workflow_id, WebhookCreateIn(
                respond=t.data["respond"], description=t.data["description"], source="published"))
            out.append({"type": "webhook", "node_id": t.node_id,
                        **trigger_services.webhook_out(hook, base_url).model_dump(mode="json"), "secret": secret})
    return out


async def import_n8n(s: AsyncSession, p: Principal, keyring: Keyring, raw: Any,
                     base_url: str) -> tuple[Any, N8nImport, list[ImportedCredential], list[dict[str, Any]]]:
    result = mapped(raw)
    creds = await _credentials(s, p, keyring, result)
    wf = await workflows.create_workflow(s, p, WorkflowCreateIn(
        name=result.graph["name"], description="Imported from n8n", graph=result.graph))
    return wf, result, creds, await _triggers(s, p, wf.id, result, base_url)
