"""The Triggers panel's webhook endpoints: a test delivery signed by the server goes through
/hooks/{id} like a sender's and starts a run; the deliveries list shows the last accepted
deliveries of that webhook only, with their run's status; roles and tenants are checked."""

from __future__ import annotations

import json

from tests.backend.runs.test_controllers import wait_for_end
from tests.backend.triggers.conftest import assert_problem, published_workflow, simple_graph
from tests.backend.triggers.test_webhooks import make_hook, signed

SCHEMA = {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}


def hooked(**config):
    return simple_graph("trigger.webhook", name="hooked", **config)


async def test_a_test_delivery_starts_a_run_and_is_listed(client, tenant_a):
    """The test endpoint answers the webhook's 202 with the run it started, and that run heads the deliveries."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, hooked())
    hook = await make_hook(client, h, wf)
    r = await client.post(f"/api/workflows/{wf}/webhooks/{hook['id']}/test", json={"body": {"email": "t@x.test"}},
                          headers=h)
    assert r.status_code == 200, r.text
    sent = r.json()
    assert sent["status"] == 202 and sent["run_id"] and sent["body"]["run_id"] == sent["run_id"]
    run = await wait_for_end(client, h, sent["run_id"])
    assert run["status"] == "succeeded" and run["input"]["body"] == {"email": "t@x.test"}
    assert "secret" not in json.dumps(sent) and hook["secret"] not in json.dumps(run)
    r = await client.get(f"/api/workflows/{wf}/webhooks/{hook['id']}/deliveries", headers=tenant_a.viewer.headers)
    assert r.status_code == 200, r.text
    listed = r.json()
    assert [(d["run_id"], d["method"], d["status"]) for d in listed] == [(sent["run_id"], "POST", "succeeded")]


async def test_a_refused_test_delivery_shows_the_webhooks_problem(client, tenant_a):
    """A body the webhook's schema refuses comes back as the webhook's 422 problem, and no run starts."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, hooked(body_schema=SCHEMA))
    hook = await make_hook(client, h, wf)
    r = await client.post(f"/api/workflows/{wf}/webhooks/{hook['id']}/test", json={"body": {"name": 1}}, headers=h)
    assert r.status_code == 200, r.text
    sent = r.json()
    assert sent["status"] == 422 and sent["run_id"] is None and "schema" in sent["body"]["detail"]
    r = await client.get(f"/api/workflows/{wf}/webhooks/{hook['id']}/deliveries", headers=h)
    assert r.json() == []


async def test_deliveries_list_only_this_webhook_newest_first(client, tenant_a):
    """Two webhooks of one workflow: each lists its own deliveries, newest first, at most 20."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, hooked())
    one, two = await make_hook(client, h, wf), await make_hook(client, h, wf)
    ids = []
    for i in range(3):
        body = json.dumps({"n": i}).encode()
        r = await client.post(f"/hooks/{one['id']}", content=body, headers=signed(one["secret"], body))
        assert r.status_code == 202, r.text
        ids.append(r.json()["run_id"])
    for run_id in ids:
        await wait_for_end(client, h, run_id)
    r = await client.get(f"/api/workflows/{wf}/webhooks/{one['id']}/deliveries", headers=h)
    assert [d["run_id"] for d in r.json()] == ids[::-1]
    r = await client.get(f"/api/workflows/{wf}/webhooks/{two['id']}/deliveries", headers=h)
    assert r.json() == []


async def test_roles_and_workspaces(client, tenant_a, tenant_b):
    """Viewers may not send a test delivery (403); another workspace sees 404 for both endpoints."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, hooked())
    hook = await make_hook(client, h, wf)
    base = f"/api/workflows/{wf}/webhooks/{hook['id']}"
    assert_problem(await client.post(f"{base}/test", json={}, headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.post(f"{base}/test", json={}, headers=tenant_b.owner.headers), 404)
    assert_problem(await client.get(f"{base}/deliveries", headers=tenant_b.owner.headers), 404)
    r = await client.post(f"{base}/test", headers=tenant_a.owner.headers)   # no body: the default sample
    assert r.status_code == 200 and r.json()["status"] == 202, r.text
