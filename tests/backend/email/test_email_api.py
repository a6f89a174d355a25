"""Email API: templates, preview, provider, outbox through a real run
of the nodes on the app's services, unsubscribe, webhooks, suppression; isolation and roles."""

from __future__ import annotations

import pytest

from backend.runs.node_services import node_services
from nodes.email import compose, send
from nodes.sdk import NodeContext
from tests.backend.conftest import assert_problem


async def _send_through_app(settings, tenant_id, to, run_id="r1"):
    services = node_services(settings)
    ctx = NodeContext(run_id=run_id, node_id="send", tenant_id=tenant_id, services=services.nodes)
    msg = (await compose.execute(ctx, compose.Config(subject="Hi {{ recipient.name }}",
                                                     html='<p>Hi</p><a href="{{ unsubscribe_url }}">u</a>'), {}))["output"]
    try:
        return (await send.execute(ctx, send.Config(sender="shop@maily.example", to=to), {"message": msg}))["output"]
    finally:
        await services.nodes.mailer.aclose()
        await services.http.aclose()


async def test_templates_crud_isolation_and_roles(client, tenant_a, tenant_b):
    body = {"name": "welcome", "subject": "Hi {{ recipient.name }}", "html": "<p>{{ x }}</p>"}
    assert_problem(await client.post("/api/email/templates", json=body, headers=tenant_a.viewer.headers), 403)
    r = await client.post("/api/email/templates", json=body, headers=tenant_a.editor.headers)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert (await client.get(f"/api/email/templates/{tid}", headers=tenant_a.viewer.headers)).status_code == 200
    assert_problem(await client.get(f"/api/email/templates/{tid}", headers=tenant_b.owner.headers), 404)
    assert_problem(await client.delete(f"/api/email/templates/{tid}", headers=tenant_b.owner.headers), 404)
    r = await client.post("/api/email/preview", json={"template_id": tid, "data": {"x": "<b>"},
                                                      "recipient": {"name": "Ann"}}, headers=tenant_a.viewer.headers)
    assert r.status_code == 200, r.text
    assert r.json()["subject"] == "Hi Ann" and "&lt;b&gt;" in r.json()["html"]
    assert_problem(await client.post("/api/email/preview", json={"subject": "x", "html": "{{ nope }}"},
                                     headers=tenant_a.viewer.headers), 400)
    r = await client.put(f"/api/email/templates/{tid}", json={**body, "name": "welcome2"}, headers=tenant_a.editor.headers)
    assert r.json()["name"] == "welcome2"
    assert (await client.delete(f"/api/email/templates/{tid}", headers=tenant_a.editor.headers)).status_code == 204


async def test_a_template_name_the_workspace_already_has_is_a_conflict(client, tenant_a, tenant_b):
    """Creating or renaming to a name another template of the workspace has answers 409 naming `name`, never 500."""
    h = tenant_a.editor.headers
    assert (await client.post("/api/email/templates", json={"name": "dup"}, headers=h)).status_code == 201
    other = (await client.post("/api/email/templates", json={"name": "other"}, headers=h)).json()["id"]
    assert assert_problem(await client.post("/api/email/templates", json={"name": "dup"}, headers=h), 409)["field"] == "name"
    assert_problem(await client.put(f"/api/email/templates/{other}", json={"name": "dup"}, headers=h), 409)
    assert (await client.post("/api/email/templates", json={"name": "dup"},
                              headers=tenant_b.editor.headers)).status_code == 201   # another workspace's names are apart
    names = sorted(t["name"] for t in (await client.get("/api/email/templates", headers=h)).json())
    assert names == ["dup", "other"]


async def test_provider_secret_is_encrypted_and_only_owners_set_it(client, tenant_a, db):
    import sqlalchemy as sa

    from backend.credentials.models import Credential
    cfg = {"kind": "resend", "secret": "re_supersecret"}
    assert_problem(await client.put("/api/email/provider", json=cfg, headers=tenant_a.editor.headers), 403)
    r = await client.put("/api/email/provider", json=cfg, headers=tenant_a.owner.headers)
    assert r.status_code == 200 and r.json()["has_secret"] and "re_supersecret" not in r.text
    async with db.sessionmaker() as s:   # an email_provider credential in the vault, sealed
        [row] = await s.scalars(sa.select(Credential).where(Credential.tenant_id == tenant_a.id,
                                                            Credential.type == "email_provider"))
    assert row.secret.startswith("v1:") and "supersecret" not in row.secret + str(row.fields)


async def test_outbox_unsubscribe_and_suppression_end_to_end(client, settings, tenant_a, tenant_b):
    out = await _send_through_app(settings, tenant_a.id, [{"email": "ann@example.com", "name": "Ann"}])
    assert out["sent"] == 1 and out["results"][0]["provider"] == "outbox"
    rows = (await client.get("/api/email/outbox", headers=tenant_a.viewer.headers)).json()
    assert [r["recipient"] for r in rows] == ["Ann <ann@example.com>"]
    assert (await client.get("/api/email/outbox", headers=tenant_b.owner.headers)).json() == []
    assert_problem(await client.get(f"/api/email/outbox/{rows[0]['id']}", headers=tenant_b.owner.headers), 404)
    raw = (await client.get(f"/api/email/outbox/{rows[0]['id']}", headers=tenant_a.viewer.headers)).json()["raw"]
    import email
    unsub = email.message_from_string(raw)["List-Unsubscribe"].strip()[1:-1]
    path = unsub.split("://", 1)[1].split("/", 1)[1]
    page = await client.get("/" + path)
    assert page.status_code == 200 and "ann@example.com" in page.text
    r = await client.post("/" + path, content=b"List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    assert (await client.post("/" + path[:-3] + "xyz")).status_code == 404          # forged token
    supp = (await client.get("/api/email/suppressions", headers=tenant_a.viewer.headers)).json()
    assert [s["email"] for s in supp] == ["ann@example.com"]
    again = await _send_through_app(settings, tenant_a.id, ["ann@example.com", "bob@example.com"], run_id="r2")
    assert again["suppressed"] == 1 and again["sent"] == 1
    # the same run retried: nothing new in the outbox
    await _send_through_app(settings, tenant_a.id, ["ann@example.com", "bob@example.com"], run_id="r2")
    assert len((await client.get("/api/email/outbox", headers=tenant_a.viewer.headers)).json()) == 2


@pytest.mark.parametrize("provider,payload", [
    ("resend", {"type": "email.bounced", "data": {"to": ["x@example.com"], "bounce": {"type": "Permanent"}}}),
    ("sendgrid", [{"email": "x@example.com", "event": "spamreport"}, {"email": "y@example.com", "event": "open"}]),
    ("mailgun", {"event-data": {"event": "failed", "severity": "permanent", "recipient": "x@example.com"}}),
])
async def test_bounce_and_complaint_webhooks(client, tenant_a, provider, payload):
    hook = (await client.get("/api/email/provider", headers=tenant_a.owner.headers)).json()["webhook_url"]
    token = hook.rsplit("/", 1)[1]
    assert (await client.post(f"/api/email/webhooks/{provider}/{token}x", json=payload)).status_code == 404
    r = await client.post(f"/api/email/webhooks/{provider}/{token}", json=payload)
    assert r.status_code == 200 and r.json()["suppressed"] == 1
    supp = (await client.get("/api/email/suppressions", headers=tenant_a.viewer.headers)).json()
    assert [s["email"] for s in supp] == ["x@example.com"]


async def test_two_requests_suppressing_one_address_at_once_both_succeed(db, tenant_a):
    """A bounce and a complaint for the same address at the same moment: one row, no IntegrityError (never a 500)."""
    import asyncio

    import sqlalchemy as sa

    from backend.email.services import suppress
    from backend.email.models import EmailSuppression

    async with db.sessionmaker() as a, db.sessionmaker() as b:
        await b.execute(sa.select(1))          # b holds its connection: its next statement runs at once
        await suppress(a, tenant_a.id, "race@example.com", "bounce", "resend")   # not committed yet

        async def commit_a_once_b_waits() -> None:
            async with db.sessionmaker() as watch:   # b's insert waits for a's uncommitted row
                waiting = sa.text("select count(*) from pg_stat_activity where datname = current_database() "
                                  "and wait_event_type = 'Lock'")
                while not await watch.scalar(waiting):
                    await asyncio.sleep(0.01)
            await a.commit()

        await asyncio.gather(suppress(b, tenant_a.id, "race@example.com", "complaint", "sendgrid"),
                             asyncio.wait_for(commit_a_once_b_waits(), 10))
        await b.commit()
    async with db.sessionmaker() as s:
        rows = (await s.execute(sa.select(EmailSuppression.reason).where(EmailSuppression.tenant_id == tenant_a.id))).all()
    assert [r.reason for r in rows] == ["bounce"]
