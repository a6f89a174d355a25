"""/api/workflows/{id}/feeds (the pollers of the published version, with their last error) and
/api/workflows/{id}/attachments/{ref} (an attachment of a mail that started a run)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from litestar import Controller, Response, get
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.schemas import Principal
from backend.db.scoped import get_scoped
from backend.feeds.models import FeedPoller, MailAttachment
from backend.workflows.services import get_workflow


class FeedPollerOut(BaseModel):
    id: str
    node_id: str
    kind: Literal["rss", "imap"]
    version: int = Field(description="The published version the poller comes from")
    enabled: bool
    config: dict[str, Any] = Field(description="The node's config (url and interval_s, or credential id, mailbox, poll_s)")
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_run_id: str | None
    last_error: str | None = Field(description="Why the last poll failed (null once a poll succeeds)")
    watching: bool = Field(description="imap: an app process holds the mailbox's lease")


def poller_out(p: FeedPoller, now: datetime) -> FeedPollerOut:
    return FeedPollerOut(id=p.id, node_id=p.node_id, kind=p.kind, version=p.version,  # type: ignore[arg-type]
                         enabled=p.enabled, config=dict(p.config or {}),
                         next_poll_at=p.next_poll_at if p.kind == "rss" else None,
                         last_polled_at=p.last_polled_at, last_run_id=p.last_run_id, last_error=p.last_error,
                         watching=bool(p.kind == "imap" and p.lease_until and p.lease_until > now))


class FeedController(Controller):
    path = "/api/workflows/{workflow_id:str}"
    tags = ["triggers"]

    @get("/feeds", operation_id="listFeedPollers")
    async def list_feeds(self, workflow_id: str, principal: Principal, db_session: AsyncSession) -> list[FeedPollerOut]:
        """The trigger.rss / trigger.imap pollers of the published version, with their last error."""
        await get_workflow(db_session, principal, workflow_id)
        rows = await db_session.scalars(select(FeedPoller).where(FeedPoller.tenant_id == principal.tenant_id,
                                                                 FeedPoller.workflow_id == workflow_id)
                                        .order_by(FeedPoller.node_id))
        now = datetime.now().astimezone()
        return [poller_out(p, now) for p in rows]

    @get("/attachments/{attachment_id:str}", operation_id="getMailAttachment", media_type="application/octet-stream")
    async def get_attachment(self, workflow_id: str, attachment_id: str, principal: Principal,
                             db_session: AsyncSession) -> Response[bytes]:
        """The bytes of an attachment a trigger.imap run names by `ref`, as a download."""
        await get_workflow(db_session, principal, workflow_id)
        row = await get_scoped(db_session, MailAttachment, principal.tenant_id, attachment_id, "attachment",
                               MailAttachment.workflow_id == workflow_id)
        name = (row.filename or "attachment").replace('"', "").replace("\r", "").replace("\n", "")
        ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
        return Response(row.data, media_type=row.content_type or "application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                                                        f"filename*=UTF-8''{quote(name)}",
                                 "X-Content-Type-Options": "nosniff"})


ROUTES = [FeedController]
