"""Uncertain email sends: a person's decision on the few messages whose transmission was
interrupted after DATA began (the server may or may not have taken them; nodes/email/mailer.py).

An email.send step that ends with uncertain messages suspends its run (`waiting`, reason
`email_uncertain`, the recipients in `waiting_on[].details`). An owner or editor then either
resends them (their rows are released, the step runs again: it skips every recipient already
sent in the run's lineage and sends the released ones, with the same Message-ID) or marks them
done (their rows become `sent`; the step runs again and sends nothing). Either way the run then
goes on from that step."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.auth.schemas import Principal
from backend.db.models import Run
from backend.email.models import EmailSend
from backend.errors import Conflict
from backend.runs import instances
from backend.runs.control import continue_run, waiting_entry
from backend.runs.services import get_run
from nodes.email.headers import bare_address
from nodes.email.send import UNCERTAIN_REASON


class UncertainIn(BaseModel):
    node_id: str | None = Field(default=None, max_length=64, description="The email.send node (when several wait)")
    recipients: list[str] | None = Field(default=None, max_length=50_000,
                                         description="Only these addresses (default: every uncertain one)")


def _entry(run: Run, node_id: str | None) -> dict[str, Any]:
    return waiting_entry(run, UNCERTAIN_REASON, node_id, "uncertain email sends")


def _rows(run: Run, node_id: str, recipients: list[str] | None) -> Any:
    """The node's uncertain rows in the run's lineage (the key starts with root run and node)."""
    prefix = f"{run.root_run_id or run.id}:{node_id}:"
    where = [EmailSend.tenant_id == run.tenant_id, EmailSend.status == "sending",
             EmailSend.key.startswith(prefix, autoescape=True)]
    if recipients is not None:
        where.append(EmailSend.recipient.in_([bare_address(r) for r in recipients]))
    return where


async def resolve(s: AsyncSession, p: Principal, runner: Any, recorder: Any, registry: Any, run_id: str,
                  action: Literal["resend", "done"], body: UncertainIn) -> tuple[Run, int]:
    """Resend or mark done the uncertain sends the run waits on; the run goes on from the step."""
    run = await get_run(s, p, run_id)
    entry = _entry(run, body.node_id)
    where = _rows(run, entry["node_id"], body.recipients)
    if action == "resend":
        result = await s.execute(sa.delete(EmailSend).where(*where))
    else:
        marked = {"status": "sent", "marked_done": {"user_id": p.user_id, "email": p.email,
                                                   "at": datetime.now(timezone.utc).isoformat()}}
        result = await s.execute(sa.update(EmailSend).where(*where).values(status="sent", result=marked)
                                 .execution_options(synchronize_session=False))
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    remaining = [e for e in run.waiting_on or [] if e["node_id"] != entry["node_id"]]
    # The step is no longer waiting: the next pass runs it again (it skips what is sent).
    claimed = await s.execute(sa.update(Run).where(Run.id == run.id, Run.status == "waiting")
                              .values(status="queued", waiting_on=remaining, owner_instance=instances.current())
                              .execution_options(synchronize_session=False))
    if not claimed.rowcount:  # type: ignore[attr-defined]
        await s.rollback()
        raise Conflict(f"run {run_id} was decided or resumed already")
    await audit.record(s, p, "run.email_resend_uncertain" if action == "resend" else "run.email_mark_done",
                       "run", run_id, {"node_id": entry["node_id"], "messages": count})
    await s.commit()
    await s.refresh(run)
    await continue_run(s, run, runner, recorder, registry)
    await s.refresh(run)
    return run, count
