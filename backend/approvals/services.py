"""Deciding through a mailed approval link (nodes/approval/links.py makes the links).

A link is refused when its signature does not hold (tampered, another instance's key): 404;
when its node no longer waits (decided already, by this link or anyone, or timed out): 409 with
what was decided; when its deadline has passed: 410; when its address is no longer among the
node's approvers: 403. The decision itself goes through backend/runs/control.py like a member's,
recorded with the approver's address (and their user id when a member of the workspace has it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.scoped import find_scoped
from backend.db.models import Membership, NodeRun, Run, User
from backend.errors import Conflict, Forbidden, Gone, NotFound
from backend.runs import control
from nodes.approval.links import ApprovalLinks, LinkClaim

SHOWN_INPUT_CHARS = 5000


@dataclass
class OpenLink:
    claim: LinkClaim
    run: Run
    entry: dict[str, Any]

    @property
    def details(self) -> dict[str, Any]:
        return self.entry.get("details") or {}


def read_claim(links: ApprovalLinks, token: str) -> LinkClaim:
    claim = links.read(token)
    if claim is None:
        raise NotFound("This approval link is not valid: it was changed or cut short. Use the link from the mail as it is.")
    return claim


async def open_link(s: AsyncSession, links: ApprovalLinks, token: str) -> OpenLink:
    """The run and waiting entry a link decides, or the problem that refuses it."""
    claim = read_claim(links, token)
    run = await find_scoped(s, Run, claim.tenant_id, claim.run_id)
    if run is None:
        raise NotFound("This approval link is not valid: its run no longer exists.")
    await s.refresh(run)
    entry = next((e for e in run.waiting_on or [] if e.get("node_id") == claim.node_id and e.get("reason") == "approval"
                  and "decision" not in e), None) if run.status == "waiting" else None
    if entry is None:
        raise Conflict(await _decided(s, run, claim.node_id))
    if claim.email not in ((entry.get("details") or {}).get("notified") or []):
        raise Forbidden("This approval link is no longer valid: its address is not among the approvers.")
    if claim.expired():
        raise Gone("This approval link has expired; the default decision applies.")
    return OpenLink(claim, run, entry)


async def _decided(s: AsyncSession, run: Run, node_id: str) -> str:
    """Why the node no longer waits, for the refusal of a used link."""
    row = await s.scalar(select(NodeRun).where(NodeRun.run_id == run.id, NodeRun.node_id == node_id,
                                               NodeRun.iteration.is_(None)))
    outcome = next(iter((row.output or {}).values()), None) if row is not None and row.status != "waiting" else None
    if isinstance(outcome, dict) and outcome.get("decision"):
        who = outcome.get("decided_by") or {}
        by = "nobody in time (the default decision)" if who.get("timeout") else who.get("email") or "a member"
        return f"This approval link was already used: it was {outcome['decision']} by {by}. A link works once."
    return f"This approval link was already used, or the approval was decided; the run is {run.status}."


async def shown_input(s: AsyncSession, opened: OpenLink) -> str:
    """What is to be approved (the node's recorded input), as indented JSON, capped."""
    row = await s.scalar(select(NodeRun).where(NodeRun.run_id == opened.run.id, NodeRun.node_id == opened.claim.node_id,
                                               NodeRun.iteration.is_(None)))
    value = (row.input or {}).get("input") if row is not None and isinstance(row.input, dict) else None
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str) if value is not None else ""
    return text if len(text) <= SHOWN_INPUT_CHARS else text[:SHOWN_INPUT_CHARS] + "\n…"


async def decide(s: AsyncSession, state: Any, token: str, decision: str, data: dict[str, Any]) -> tuple[OpenLink, Run]:
    """Record the approver's decision (422 naming the form's fields when the data is wrong)."""
    opened = await open_link(s, state.node_services.nodes.approval_links, token)
    control.check_form(opened.entry, data)
    member = await s.scalar(select(User).join(Membership, Membership.user_id == User.id)
                            .where(Membership.tenant_id == opened.run.tenant_id, func.lower(User.email) == opened.claim.email))
    decided_by = {"email": opened.claim.email, "via": "link",
                  **({"user_id": member.id, "name": member.name} if member is not None else {})}
    run = await control.record_decision(s, opened.run, opened.entry, decision, data, decided_by, None, state.runner,
                                        state.recorder, state.registry)
    return opened, run
