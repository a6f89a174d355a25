"""Helpers of the approval link tests: a workflow that mails approvers, and the links it mailed."""

from __future__ import annotations

import email
import re

from tests.backend.runs.test_run_control import FORM
from tests.flows.fakes import edge, graph, node


def approval_graph(notify: list[str], **config) -> dict:
    return graph([node("start", "trigger.manual"),
                  node("ok", "approval.wait", title="Ship the campaign?", instructions="Check the list first.",
                       form=FORM, notify=notify, **config),
                  node("yes", "data.set", values={"branch": "yes"}), node("no", "data.set", values={"branch": "no"})],
                 [edge("start", "ok"), edge("ok", "yes", "approved"), edge("ok", "no", "rejected")],
                 name="approve-by-link")


async def mailed_links(client, headers) -> dict[str, str]:
    """The approval link of each outbox message, by recipient: the path the mail points to."""
    links = {}
    for row in (await client.get("/api/email/outbox", headers=headers)).json():
        raw = (await client.get(f"/api/email/outbox/{row['id']}", headers=headers)).json()["raw"]
        msg = email.message_from_string(raw)
        text = next(p.get_payload(decode=True).decode() for p in msg.walk() if p.get_content_type() == "text/plain")
        found = re.search(r"https?://[^/\s]+(/api/approvals/\S+)", text)
        if found:
            links[msg["To"]] = found[1]
    return links
