"""Exactly-once across a run's lineage: the key, claims taken only right before DATA, uncertain sends."""

from __future__ import annotations

import asyncio
import socket

import pytest

from nodes.email import send
from nodes.sdk import NodeSuspended, NodeTemporaryError
from tests.nodes.email.test_send import _message

TO = [f"user{i}@example.com" for i in range(6)]


async def _send(make_ctx, mailer, message, to, *, run_id: str, root: str | None, suspend: float | None = None):
    ctx = make_ctx(scope={"run": {"root_run_id": root}} if root else {}, services={"mailer": mailer},
                   suspend_after_s=suspend)
    ctx.run_id, ctx.tenant_id = run_id, "t1"
    config = send.Config(sender="Shop <shop@maily.example>", to=to)
    return (await send.execute(ctx, config, {"message": message}))["output"]


def _smtp(port: int) -> dict:
    return {"kind": "smtp", "host": "127.0.0.1", "port": port, "security": "none"}


async def test_a_retry_in_the_same_lineage_sends_only_the_recipients_not_yet_sent(make_ctx, mailer_for, smtp_server):
    """A later run with the same root run skips every recipient the first run sent, and sends the rest."""
    mailer = mailer_for(_smtp(smtp_server.port))
    msg = await _message(make_ctx)
    await _send(make_ctx, mailer, msg, TO[:3], run_id="run-a", root="run-a")
    out = await _send(make_ctx, mailer, msg, TO, run_id="run-b", root="run-a")
    delivered = [m["to"][0] for m in smtp_server.messages]
    assert sorted(delivered) == sorted(TO) and out["sent"] == 6 and out["already_sent"] == 3


async def test_a_new_lineage_sends_again_and_message_ids_follow_the_key(make_ctx, mailer_for, smtp_server):
    """Another root run is another campaign (mailed again); each Message-ID is derived from its lineage key."""
    mailer = mailer_for(_smtp(smtp_server.port))
    msg = await _message(make_ctx)
    first = await _send(make_ctx, mailer, msg, TO[:1], run_id="run-a", root="run-a")
    second = await _send(make_ctx, mailer, msg, TO[:1], run_id="run-c", root="run-c")
    ids = [m["message"]["Message-ID"] for m in smtp_server.messages]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert [first["results"][0]["message_id"], second["results"][0]["message_id"]] == ids
    assert first["results"][0]["key"] == "run-a:n1:-:user0@example.com"


async def test_a_send_that_cannot_connect_claims_no_row(make_ctx, mailer_for):
    """No SMTP connection, no claim: the retry of the step sends the message (nothing is left uncertain)."""
    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mailer = mailer_for(_smtp(port))
    with pytest.raises(NodeTemporaryError):
        await _send(make_ctx, mailer, await _message(make_ctx), TO[:2], run_id="run-a", root="run-a")
    assert mailer.store.log == {}


async def test_uncertain_sends_are_listed_and_suspend_the_run(make_ctx, mailer_for, smtp_server):
    """A row left `sending` (DATA began, the end unknown) is not resent; the output lists it and the step waits."""
    mailer = mailer_for(_smtp(smtp_server.port))
    await mailer.store.claim("t1", "run-a:n1:-:user1@example.com", "user1@example.com", "run-a", "n1")
    msg = await _message(make_ctx)
    with pytest.raises(NodeSuspended) as info:
        await _send(make_ctx, mailer, msg, TO[:3], run_id="run-b", root="run-a", suspend=30.0)
    out = info.value.result["output"]
    assert out["uncertain_recipients"] == ["user1@example.com"] and out["sent"] == 2
    assert info.value.reason == "email_uncertain" and info.value.details["recipients"] == ["user1@example.com"]
    assert sorted(m["to"][0] for m in smtp_server.messages) == ["user0@example.com", "user2@example.com"]


async def test_a_step_cancelled_mid_send_records_what_went_out_and_holds_nothing_else(make_ctx, mailer_for, smtp_server):
    """Cancelled while sending: messages already transmitting finish and are recorded, the others hold no row."""
    mailer = mailer_for(_smtp(smtp_server.port), concurrency=2)
    msg = await _message(make_ctx)
    many = [f"bulk{i}@example.com" for i in range(40)]
    task = asyncio.ensure_future(_send(make_ctx, mailer, msg, many, run_id="run-a", root="run-a"))
    for _ in range(2000):
        if len(smtp_server.messages) >= 5:
            break
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    rows = {k.rsplit(":", 1)[1]: v["status"] for (_, k), v in mailer.store.log.items()}
    delivered = {m["to"][0] for m in smtp_server.messages}
    assert set(rows.values()) <= {"sent"}, rows          # nothing left claimed-but-unknown
    assert delivered == set(rows), (delivered, rows)     # every delivery recorded, nothing recorded undelivered
    out = await _send(make_ctx, mailer, msg, many, run_id="run-a", root="run-a")
    assert out["sent"] == 40 and sorted(m["to"][0] for m in smtp_server.messages) == sorted(many)


async def test_a_recipient_refused_at_rcpt_holds_no_row_and_the_others_go_out(make_ctx, mailer_for, smtp_server):
    """A recipient the server refuses before DATA fails without a claim; the rest of the batch is sent."""
    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address.startswith("user1@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handler.handle_RCPT = handle_RCPT
    mailer = mailer_for(_smtp(smtp_server.port))
    out = await _send(make_ctx, mailer, await _message(make_ctx), TO[:3], run_id="run-a", root="run-a")
    assert out["failed"] == 1 and out["sent"] == 2
    assert {k for (_, k) in mailer.store.log} == {"run-a:n1:-:user0@example.com", "run-a:n1:-:user2@example.com"}
    assert sorted(m["to"][0] for m in smtp_server.messages) == ["user0@example.com", "user2@example.com"]


async def test_the_row_is_claimed_after_the_envelope_is_accepted_and_before_data(make_ctx, mailer_for, smtp_server):
    """At each claim the server has accepted that recipient's RCPT TO but not yet received its message."""
    accepted: list[str] = []

    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        accepted.append(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_server.handler.handle_RCPT = handle_RCPT
    mailer = mailer_for(_smtp(smtp_server.port))
    seen: list[tuple[str, bool, bool]] = []
    claim = mailer.store.claim

    async def watching_claim(tenant_id, key, to, run_id, node_id):
        delivered = {m["to"][0] for m in smtp_server.messages}
        seen.append((to, to in accepted, to in delivered))
        return await claim(tenant_id, key, to, run_id, node_id)

    mailer.store.claim = watching_claim
    out = await _send(make_ctx, mailer, await _message(make_ctx), TO, run_id="run-a", root="run-a")
    assert out["sent"] == len(TO)
    assert sorted(seen) == sorted((to, True, False) for to in TO)
