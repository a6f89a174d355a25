"""email.send: one message per recipient, exactly once, through the tenant's provider or the outbox."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any, Literal

from pydantic import Field

from email.utils import formataddr

from nodes.email.headers import bare_address, check_address, check_header
from nodes.email.mailer import Mailer
from nodes.email.mime import Outgoing
from nodes.email.template import Recipient, render_email
from nodes.sdk import NodeConfig, NodeConfigError, NodeContext, NodeSpec, NodeSuspended, Port

SPEC = NodeSpec(
    type="email.send",
    version=1,
    title="Send email",
    category="email",
    icon="send",
    description="Sends the composed email to each recipient, personalised, through the tenant's provider "
                "(SMTP, Resend, SendGrid, Mailgun) or, with none configured, to the built-in outbox. "
                "A retried step never sends twice; suppressed addresses are skipped.",
    inputs=(Port("message", "object", "The output of email.compose"),),
    outputs=(Port("output", "object", "{sent, already_sent, suppressed, failed, uncertain, uncertain_recipients, results}"),),
    side_effects=True,
    side_effect_kind="keyed",   # every send is keyed on the run lineage and claimed before DATA (docs/email.md)
    default_retries=3,
    default_timeout_s=600.0,
)

MAX_RECIPIENTS = 50_000


class Config(NodeConfig):
    sender: str = Field(min_length=3, max_length=400, description="From: one address, e.g. Shop <news@shop.com>")
    to: Any = Field(description="One address, or a list of addresses or of objects {email, name, ...} "
                    "(the object is `recipient` in the templates)")
    reply_to: str = Field(default="", max_length=400)
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers, e.g. X-Campaign")
    unsubscribe: bool = Field(default=True, description="Add List-Unsubscribe (RFC 8058 one-click) headers")
    provider: Literal["tenant", "outbox"] = Field(default="tenant", description="tenant: the tenant's configured "
                                                  "provider (the outbox when none); outbox: never leaves the machine")


def _recipients(to: Any) -> list[dict[str, Any]]:
    items = to if isinstance(to, list) else [to]
    if not items:
        raise NodeConfigError("no recipients", pointer="/to")
    if len(items) > MAX_RECIPIENTS:
        raise NodeConfigError(f"more than {MAX_RECIPIENTS} recipients in one step", pointer="/to")
    out = []
    for i, item in enumerate(items):
        rec = dict(item) if isinstance(item, dict) else {"email": item}
        if not isinstance(rec.get("email"), str):
            raise NodeConfigError(f"recipient {i} has no email", pointer=f"/to/{i}")
        # one address per recipient, never split: "a@x.com, b@evil.test" is refused
        addr = check_address(rec["email"], "to", pointer=f"/to/{i}")
        rec["email"] = bare_address(addr)
        if rec.get("name"):
            rec["name"] = check_header("name", str(rec["name"]), pointer=f"/to/{i}/name")
            addr = formataddr((rec["name"], rec["email"]))
        rec["address"] = addr
        out.append(rec)
    return out


async def execute(ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
    message = inputs.get("message")
    if not isinstance(message, dict) or "subject" not in message:
        raise NodeConfigError("connect the output of email.compose to `message`", pointer="/inputs/message")
    mailer: Mailer = ctx.services.mailer
    sender = check_address(config.sender, "sender", pointer="/sender")
    template, data = message.get("template") or {}, message.get("data") or {}
    outgoing, seen = [], set()
    for rec in _recipients(config.to):
        if rec["email"] in seen:  # the same address twice in one list gets one mail
            continue
        seen.add(rec["email"])
        unsub = mailer.signer.url(ctx.tenant_id, rec["email"]) if config.unsubscribe else ""
        if template:
            scope = {**ctx.scope, **data, "data": data, "recipient": Recipient(rec), "unsubscribe_url": unsub}
            body = await asyncio.to_thread(render_email, template, scope)  # off the event loop
        else:
            body = {k: message.get(k, "") for k in ("subject", "html", "text")}
        outgoing.append(Outgoing(key=send_key(ctx, rec["email"]), sender=sender, to=rec["address"],
                                 subject=body["subject"], html=body["html"], text=body["text"],
                                 reply_to=config.reply_to, headers=config.headers, unsubscribe_url=unsub))
    results = await mailer.send_batch(ctx.tenant_id, ctx.run_id, ctx.node_id, outgoing,
                                      use_outbox=config.provider == "outbox")
    count = {s: sum(r["status"] == s for r in results) for s in ("sent", "suppressed", "failed", "uncertain")}
    uncertain = [r["to"] for r in results if r["status"] == "uncertain"]
    output = {**count, "already_sent": sum(bool(r.get("duplicate")) for r in results),
              "uncertain_recipients": uncertain, "results": results}
    if uncertain and ctx.suspend_after_s is not None:
        # Not a plain success: the run waits until a person resends these or marks them done
        # (POST /api/runs/{id}/email/resend-uncertain | mark-done, backend/email/uncertain.py).
        raise NodeSuspended(None, UNCERTAIN_REASON, result={"output": output},
                            details={"uncertain": len(uncertain), "recipients": uncertain[:1000],
                                     "message": f"{len(uncertain)} message(s) may or may not have been delivered "
                                                "(the send was interrupted during transmission)"})
    return {"output": output}


UNCERTAIN_REASON = "email_uncertain"


def send_key(ctx: NodeContext, email: str) -> str:
    """The idempotency key of one message: the ROOT run of the run's retry / re-run lineage (so a
    retried or re-run campaign skips who was mailed), node, item (inside logic.for_each) and
    recipient. The Message-ID is derived from it (nodes/email/mime.py)."""
    lineage = (ctx.scope.get("run") or {}).get("root_run_id") or ctx.run_id
    item = ctx.scope.get("index") if isinstance(ctx.scope.get("index"), int) else "-"
    key = f"{lineage}:{ctx.node_id}:{item}:{email}"
    return key if len(key) <= 400 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()

