"""trigger.imap: starts a run per new mail in an IMAP mailbox.

Publishing the workflow registers a watcher (backend/feeds/): it logs in with the `imap`
credential, waits with IDLE where the server has it (polling every `poll_s` otherwise), and
starts one run per new message with the parsed message as payload (attachments by reference);
this node hands the payload on."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from nodes.credentials import credential_field
from nodes.sdk import NodeConfig, NodeContext, NodeSpec, Port

SPEC = NodeSpec(
    type="trigger.imap",
    version=1,
    title="New email (IMAP)",
    category="trigger",
    icon="mail",
    description="Starts the workflow for each new message in a mailbox once the workflow is published. Outputs "
                "{from, to, cc, subject, date, message_id, text, html, attachments: [{name, content_type, size, ref}]}.",
    inputs=(),
    outputs=(Port("output", "object", "The message: from, to, cc, subject, date, message_id, text, html, "
                                      "attachments"),),
    trigger=True,
)


class Config(NodeConfig):
    credential: str | None = credential_field("imap", description="The mailbox's IMAP account")
    mailbox: str = Field(default="INBOX", min_length=1, max_length=500, description="The folder to watch")
    poll_s: int = Field(default=60, ge=10, le=3600,
                        description="Seconds between two checks when the server has no IDLE "
                                    "(with IDLE, the longest wait before the connection is refreshed)")


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    payload = inputs.get("payload")
    return {"output": {} if payload is None else payload}
