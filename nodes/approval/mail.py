"""The mails of approval.wait: one signed link per approver, through the app's mailer (exactly once per
run, node and address: a node run again after a crash does not mail twice)."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any

from nodes.approval.links import LinkClaim
from nodes.email.headers import bare_address, check_address
from nodes.email.mime import Outgoing
from nodes.sdk import NodeConfigError, NodeContext

SHOWN_INPUT_CHARS = 2000


def approver_emails(notify: list[str]) -> list[str]:
    """Each entry one address (lower-cased, each once); a list like "a@x, b@y" in one entry is refused."""
    seen: list[str] = []
    for i, raw in enumerate(notify):
        email = bare_address(check_address(str(raw), "notify", pointer=f"/notify/{i}")).lower()
        if email not in seen:
            seen.append(email)
    return seen


async def mail_links(ctx: NodeContext, config: Any, shown: Any, deadline: datetime | None) -> list[str]:
    """Mail each approver its link; the addresses mailed. Temporary failures are retried by the engine."""
    links = ctx.services.approval_links
    emails = approver_emails(config.notify)
    sender = check_address(config.sender or links.sender, "sender", pointer="/sender")
    what = json.dumps(shown, ensure_ascii=False, indent=2, default=str) if shown is not None else ""
    if len(what) > SHOWN_INPUT_CHARS:
        what = what[:SHOWN_INPUT_CHARS] + "\n…"
    until = f"Decide before {deadline:%Y-%m-%d %H:%M} UTC; then it is {config.default_decision}." if deadline else ""
    messages = []
    for email in emails:
        url = links.url(LinkClaim(ctx.tenant_id, ctx.run_id, ctx.node_id, email, deadline))
        text = "\n\n".join(p for p in (config.instructions, what, f"Approve or reject: {url}", until,
                                       "The link works once and only for you.") if p)
        html = "".join([f"<h1>{escape(config.title)}</h1>",
                        f"<p>{escape(config.instructions)}</p>" if config.instructions else "",
                        f"<pre>{escape(what)}</pre>" if what else "",
                        f'<p><a href="{escape(url)}">Approve or reject</a></p>',
                        f"<p>{escape(until)}</p>" if until else "",
                        "<p>The link works once and only for you.</p>"])
        messages.append(Outgoing(key=f"approval:{ctx.run_id}:{ctx.node_id}:{email}", sender=sender, to=email,
                                 subject=config.title, html=html, text=text))
    results = await ctx.services.mailer.send_batch(ctx.tenant_id, ctx.run_id, ctx.node_id, messages)
    failed = [r for r in results if r["status"] == "failed"]
    if failed:
        raise NodeConfigError(f"the approval link could not be mailed to {failed[0]['to']}: {failed[0].get('error')}",
                              pointer="/notify")
    return emails
