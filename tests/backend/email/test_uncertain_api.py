"""Uncertain email sends through the API,: a re-run of a campaign skips
who was mailed, waits on the uncertain one, and an editor resends it or marks it done."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.email.models import EmailSend
from tests.backend.conftest import assert_problem
from tests.backend.runs.test_run_control import start, wait_status
from tests.faults.test_email_crash import uncertain_entry
from tests.flows.fakes import edge, graph, node
from tests.nodes.email.servers import SmtpServer

TO = ["ann@example.com", "bob@example.com", "cy@example.com"]


@pytest.fixture
async def email_client(settings):
    app = create_app(settings.model_copy(update={"http_allowed_hosts": "127.0.0.1", "prefect": "never"}))
    async with AsyncTestClient(app=app) as c:
        yield c


def campaign() -> dict:
    return graph([node("start", "trigger.manual"), node("compose", "email.compose", subject="Hi", html="<p>Hi</p>"),
                  node("send", "email.send", sender="news@shop.example", to=TO, unsubscribe=False)],
                 [edge("start", "compose"), edge("compose", "send", target_port="message")])


async def _waiting_rerun(client, db, tenant, smtp) -> tuple[str, str]:
    """Run the campaign, make cy's send uncertain (as a crash mid-DATA leaves it), re-run from send."""
    r = await client.put("/api/email/provider", headers=tenant.owner.headers,
                         json={"kind": "smtp", "host": "127.0.0.1", "port": smtp.port, "security": "none"})
    assert r.status_code == 200, r.text
    h = tenant.editor.headers
    first = await start(client, h, campaign())
    assert (await wait_status(client, h, first, "succeeded", "failed"))["status"] == "succeeded"
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(EmailSend).where(EmailSend.recipient == "cy@example.com",
                                                   EmailSend.tenant_id == tenant.id).values(status="sending"))
    r = await client.post(f"/api/runs/{first}/rerun", headers=h, json={"from_node": "send"})
    assert r.status_code == 202, r.text
    return first, r.json()["id"]


async def test_a_rerun_waits_on_the_uncertain_send_and_resend_delivers_it(email_client, db, tenant_a, tenant_b):
    """The re-run mails nobody again, waits listing cy; viewers get 403, other tenants 404; resend mails cy once more."""
    h = tenant_a.editor.headers
    with SmtpServer() as smtp:
        first, rerun = await _waiting_rerun(email_client, db, tenant_a, smtp)
        run = await wait_status(email_client, h, rerun, "waiting", "succeeded", "failed")
        assert run["status"] == "waiting" and uncertain_entry(run)["details"]["recipients"] == ["cy@example.com"]
        assert run["root_run_id"] == first and run["retry_of"] == first
        assert len(smtp.messages) == 3                      # the re-run sent nothing again
        url = f"/api/runs/{rerun}/email/resend-uncertain"
        assert_problem(await email_client.post(url, headers=tenant_a.viewer.headers, json={}), 403)
        assert_problem(await email_client.post(url, headers=tenant_b.editor.headers, json={}), 404)
        assert_problem(await email_client.post(url, headers=h, json={"recipients": "cy"}), 422)
        assert_problem(await email_client.post(f"/api/runs/{first}/email/resend-uncertain", headers=h, json={}), 409)
        r = await email_client.post(url, headers=h, json={})
        assert r.status_code == 202 and r.json()["messages"] == 1, r.text
        run = await wait_status(email_client, h, rerun, "succeeded", "failed", "waiting")
        assert run["status"] == "succeeded"
        assert sorted(m["to"][0] for m in smtp.messages) == sorted(TO + ["cy@example.com"])
        out = next(n for n in run["nodes"] if n["node_id"] == "send" and n["status"] == "succeeded")["output"]["output"]
        assert out["sent"] == 3 and out["already_sent"] == 2 and out["uncertain"] == 0


async def test_marking_the_uncertain_send_done_ends_the_run_without_sending(email_client, db, tenant_a):
    """Mark-done records cy as sent: the run succeeds and the server receives nothing more."""
    h = tenant_a.editor.headers
    with SmtpServer() as smtp:
        _, rerun = await _waiting_rerun(email_client, db, tenant_a, smtp)
        assert (await wait_status(email_client, h, rerun, "waiting", "succeeded", "failed"))["status"] == "waiting"
        r = await email_client.post(f"/api/runs/{rerun}/email/mark-done", headers=h, json={"recipients": TO[2:]})
        assert r.status_code == 202 and r.json()["messages"] == 1, r.text
        run = await wait_status(email_client, h, rerun, "succeeded", "failed", "waiting")
        assert run["status"] == "succeeded" and len(smtp.messages) == 3
        assert_problem(await email_client.post(f"/api/runs/{rerun}/email/mark-done", headers=h, json={}), 409)
