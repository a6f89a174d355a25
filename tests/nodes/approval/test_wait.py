"""approval.wait with approvers by mail: one link each through the mailer, a deadline and its default."""

from __future__ import annotations

import email
import re
from datetime import datetime, timedelta, timezone

import pytest

from nodes.approval import wait
from nodes.approval.links import ApprovalLinks
from nodes.email.mailer import Mailer, MemoryMailStore
from nodes.sdk import NodeConfigError, NodeSuspended


@pytest.fixture
def ctx(make_ctx):
    return make_ctx(services={"mailer": Mailer(store=MemoryMailStore()),
                              "approval_links": ApprovalLinks(["k"], "https://flow.example.com")},
                    suspend_after_s=30.0)


def text_of(raw: str) -> str:
    msg = email.message_from_string(raw)
    return next(p.get_payload(decode=True).decode() for p in msg.walk() if p.get_content_type() == "text/plain")


async def test_each_approver_gets_its_own_link_and_the_run_waits_until_the_deadline(ctx):
    """Two addresses get one mail each with their signed link; the suspension carries the deadline and default."""
    config = wait.Config(title="Ship?", notify=["A@example.com", "b@example.com", "a@example.com"],
                         decide_within_s=600, default_decision="approved")
    with pytest.raises(NodeSuspended) as raised:
        await wait.execute(ctx, config, {"input": {"campaign": "spring"}})
    suspended = raised.value
    assert suspended.details["notified"] == ["a@example.com", "b@example.com"]
    assert timedelta(minutes=9) < suspended.resume_at - datetime.now(timezone.utc) <= timedelta(minutes=10)
    default = suspended.result["approved"]
    assert default["decided_by"] == {"timeout": True} and default["decision"] == "approved"
    outbox = ctx.services.mailer.store.outbox
    assert sorted(m["to"] for m in outbox) == ["a@example.com", "b@example.com"]
    text = text_of(next(m["raw"] for m in outbox if m["to"] == "a@example.com"))
    assert "spring" in text and "Decide before" in text
    token = re.search(r"https://flow\.example\.com/api/approvals/(\S+)", text)[1]
    claim = ctx.services.approval_links.read(token)
    assert (claim.run_id, claim.node_id, claim.email) == (ctx.run_id, ctx.node_id, "a@example.com")
    assert claim.expires_at == suspended.resume_at


async def test_a_list_of_addresses_in_one_entry_is_refused_naming_it(ctx):
    """`notify` entries are one address each: "a@x, b@y" fails at /notify/1 before anything is mailed."""
    config = wait.Config(notify=["ok@example.com", "a@example.com, evil@example.com"])
    with pytest.raises(NodeConfigError) as raised:
        await wait.execute(ctx, config, {"input": None})
    assert raised.value.pointer == "/notify/1" and ctx.services.mailer.store.outbox == []


async def test_without_approvers_or_deadline_nothing_is_mailed_and_it_waits_for_a_member(ctx):
    """The plain node suspends with no deadline and no result, as before links existed."""
    with pytest.raises(NodeSuspended) as raised:
        await wait.execute(ctx, wait.Config(), {"input": 1})
    assert raised.value.resume_at is None and raised.value.result is None and ctx.services.mailer.store.outbox == []
