"""Webhooks: a signed delivery starts a run of the published version with the request as the
payload; every refusal is problem+json with the right status and starts no run."""

from __future__ import annotations

import asyncio
import json
import time

from backend.settings import Settings
from backend.triggers.hooks import HookLimits, sign
from tests.backend.runs.test_controllers import wait_for_end
from tests.backend.triggers.conftest import assert_problem, published_workflow, runs_of, simple_graph

SCHEMA = {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}


def webhook_graph(**config):
    config.setdefault("methods", ["POST", "PUT"])
    return simple_graph("trigger.webhook", name="hooked", **config)


async def make_hook(client, headers, wf: str, **body) -> dict:
    r = await client.post(f"/api/workflows/{wf}/webhooks", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def signed(secret: str, body: bytes, *, ts: int | None = None, **extra: str) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    return {"X-Maily-Signature": sign(secret, ts, body), "X-Maily-Timestamp": str(ts),
            "Content-Type": "application/json", **extra}


async def test_signed_delivery_starts_a_run_with_the_request_as_payload(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, webhook_graph(body_schema=SCHEMA))
    hook = await make_hook(client, h, wf)
    assert hook["secret"].startswith("whsec_") and hook["url"].endswith(f"/hooks/{hook['id']}")
    body = json.dumps({"email": "ada@example.com", "n": 1}).encode()
    r = await client.post(f"/hooks/{hook['id']}?src=crm", content=body,
                          headers=signed(hook["secret"], body, **{"X-Custom": "yes", "Cookie": "a=b"}))
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["workflow_id"] == wf and accepted["workflow_version"] == 1
    run = await wait_for_end(client, h, accepted["run_id"])
    assert run["status"] == "succeeded", run
    assert run["trigger"] == "webhook"
    payload = run["input"]
    assert payload["method"] == "POST" and payload["path"] == f"/hooks/{hook['id']}"
    assert payload["body"] == {"email": "ada@example.com", "n": 1}
    assert payload["query"] == {"src": "crm"}
    assert payload["headers"]["x-custom"] == "yes"
    assert "x-maily-signature" not in payload["headers"] and "cookie" not in payload["headers"]
    assert run["output"] == {"echo": {"seen": payload}}
    # the secret is shown once: lists carry only its hint
    listed = (await client.get(f"/api/workflows/{wf}/webhooks", headers=tenant_a.viewer.headers)).json()
    assert [x["id"] for x in listed] == [hook["id"]] and "secret" not in listed[0]
    assert listed[0]["last_used_at"] is not None


async def test_refusals_are_problems_and_start_no_run(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, webhook_graph(body_schema=SCHEMA))
    hook = await make_hook(client, h, wf)
    url, secret = f"/hooks/{hook['id']}", hook["secret"]
    good = json.dumps({"email": "x@example.com"}).encode()

    doc = assert_problem(await client.post(url, content=good, headers=signed("whsec_wrong", good)), 401)
    assert "X-Maily-Signature" in doc["detail"]
    tampered = json.dumps({"email": "evil@example.com"}).encode()
    sig = signed(secret, good)
    assert_problem(await client.post(url, content=tampered, headers=sig), 401)
    stale = int(time.time()) - 301
    doc = assert_problem(await client.post(url, content=good, headers=signed(secret, good, ts=stale)), 401)
    assert "X-Maily-Timestamp" in doc["detail"]
    assert_problem(await client.post(url, content=good, headers={"Content-Type": "application/json"}), 401)
    # the webhook does not allow ?token=
    assert_problem(await client.post(f"{url}?token={secret}", content=good,
                                     headers={"Content-Type": "application/json"}), 401)

    r = await client.get(url, headers=signed(secret, b""))
    doc = assert_problem(r, 405)
    assert r.headers["allow"] == "POST, PUT"
    big = json.dumps({"email": "x@example.com", "pad": "x" * 5000}).encode()
    doc = assert_problem(await client.post(url, content=big, headers=signed(secret, big)), 413)
    xml = b"<email>x</email>"
    assert_problem(await client.post(url, content=xml, headers=signed(secret, xml, **{"Content-Type": "application/xml"})), 415)
    wrong = json.dumps({"mail": "x@example.com"}).encode()
    doc = assert_problem(await client.post(url, content=wrong, headers=signed(secret, wrong)), 422)
    assert doc["field"] == "body" and "email" in doc["detail"]
    bad_json = b"{not json"
    assert_problem(await client.post(url, content=bad_json, headers=signed(secret, bad_json)), 400)
    assert_problem(await client.post("/hooks/" + "0" * 32, content=good, headers=signed(secret, good)), 404)
    assert_problem(await client.post("/hooks/nope", content=good, headers=signed(secret, good)), 404)

    assert await runs_of(client, h, wf) == []
    r = await client.put(url, content=good, headers=signed(secret, good))   # PUT is allowed by the node
    assert r.status_code == 202, r.text


async def test_token_mode_rotation_and_deletion(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, webhook_graph())
    hook = await make_hook(client, h, wf, allow_token=True)
    url = f"/hooks/{hook['id']}"
    r = await client.post(f"{url}?token={hook['secret']}&x=1", json={"a": 1})
    assert r.status_code == 202, r.text
    run = await wait_for_end(client, h, r.json()["run_id"])
    assert run["input"]["query"] == {"x": "1"}   # the secret is not handed to the workflow
    assert_problem(await client.post(f"{url}?token=whsec_guess", json={"a": 1}), 401)

    r = await client.post(f"/api/workflows/{wf}/webhooks/{hook['id']}/rotate", headers=h)
    assert r.status_code == 201, r.text
    new_secret = r.json()["secret"]
    assert new_secret != hook["secret"] and r.json()["rotated_at"]
    assert_problem(await client.post(f"{url}?token={hook['secret']}", json={"a": 1}), 401)
    body = b'{"a": 2}'
    assert (await client.post(url, content=body, headers=signed(new_secret, body))).status_code == 202

    r = await client.put(f"/api/workflows/{wf}/webhooks/{hook['id']}", json={"allow_token": False}, headers=h)
    assert r.status_code == 200 and r.json()["allow_token"] is False
    assert_problem(await client.post(f"{url}?token={new_secret}", json={"a": 1}), 401)

    # form posts and text are accepted too
    form = b"name=Ada&plan=pro"
    r = await client.post(url, content=form, headers=signed(new_secret, form, **{
        "Content-Type": "application/x-www-form-urlencoded"}))
    assert r.status_code == 202, r.text
    run = await wait_for_end(client, h, r.json()["run_id"])
    assert run["input"]["body"] == {"name": "Ada", "plan": "pro"}

    r = await client.delete(f"/api/workflows/{wf}/webhooks/{hook['id']}", headers=h)
    assert r.status_code == 204
    assert_problem(await client.post(url, content=body, headers=signed(new_secret, body)), 404)


async def test_draft_source_and_unpublished_workflows(client, tenant_a):
    h = tenant_a.editor.headers
    doc = webhook_graph()
    r = await client.post("/api/workflows", json={"name": "unpublished", "graph": doc}, headers=h)
    wf = r.json()["id"]
    published = await make_hook(client, h, wf)
    body = b'{"a": 1}'
    assert_problem(await client.post(f"/hooks/{published['id']}", content=body,
                                     headers=signed(published["secret"], body)), 409)
    draft = await make_hook(client, h, wf, source="draft")
    r = await client.post(f"/hooks/{draft['id']}", content=body, headers=signed(draft["secret"], body))
    assert r.status_code == 202, r.text
    run = await wait_for_end(client, h, r.json()["run_id"])
    assert run["status"] == "succeeded" and run["workflow_version"] is None


async def test_rate_limits_per_webhook_and_per_tenant(app, client, tenant_a):
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, webhook_graph())
    app.state.trigger_limits = HookLimits(Settings(webhook_rate="2/minute", webhook_tenant_rate="3/minute"))
    one, two = await make_hook(client, h, wf), await make_hook(client, h, wf)
    sent = iter(range(100))

    async def post(hook):   # a distinct body each time: a repeated signed delivery would be a replay (409)
        body = json.dumps({"a": next(sent)}).encode()
        return await client.post(f"/hooks/{hook['id']}", content=body, headers=signed(hook["secret"], body))

    assert (await post(one)).status_code == 202
    assert (await post(one)).status_code == 202
    r = await post(one)
    doc = assert_problem(r, 429)
    assert 1 <= int(r.headers["retry-after"]) <= 60 and doc["retry_after"] == int(r.headers["retry-after"])
    assert (await post(two)).status_code == 202          # the third of the tenant
    r = await post(two)
    doc = assert_problem(r, 429)
    assert "workspace" in doc["detail"]
    assert len(await runs_of(client, h, wf)) == 3


async def test_roles_and_tenants(client, tenant_a, tenant_b):
    wf = await published_workflow(client, tenant_a.editor.headers, webhook_graph())
    assert_problem(await client.post(f"/api/workflows/{wf}/webhooks", json={}, headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.post(f"/api/workflows/{wf}/webhooks", json={}, headers=tenant_b.owner.headers), 404)
    hook = await make_hook(client, tenant_a.owner.headers, wf)
    assert_problem(await client.get(f"/api/workflows/{wf}/webhooks", headers=tenant_b.owner.headers), 404)
    assert_problem(await client.post(f"/api/workflows/{wf}/webhooks/{hook['id']}/rotate",
                                     headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.delete(f"/api/workflows/{wf}/webhooks/{hook['id']}",
                                       headers=tenant_b.owner.headers), 404)
    r = await client.get(f"/api/workflows/{wf}/webhooks/{hook['id']}", headers=tenant_a.viewer.headers)
    assert r.status_code == 200 and "secret" not in r.json()


EVIL_SCHEMA = {"type": "object", "properties": {"email": {"type": "string", "pattern": "^(a+)+$"}}}


async def test_catastrophic_body_schema_pattern_neither_hangs_nor_blocks_health(client, tenant_a):
    """A backtracking-bomb `pattern` in body_schema is answered with a 422 and /api/health is answered meanwhile."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, webhook_graph(body_schema=EVIL_SCHEMA))
    hook = await make_hook(client, h, wf)
    evil = json.dumps({"email": "a" * 30 + "!"}).encode()
    # Python's re needs about 2**30 steps for this body; RE2 is linear, so a generous bound separates them.
    delivery = asyncio.create_task(client.post(f"/hooks/{hook['id']}", content=evil,
                                               headers=signed(hook["secret"], evil)))
    health = await asyncio.wait_for(client.get("/api/health"), timeout=10)
    assert health.status_code == 200
    doc = assert_problem(await asyncio.wait_for(delivery, timeout=10), 422)
    assert doc["field"] == "body" and doc["pointer"] == "/body/email"


async def test_body_schema_pattern_re2_cannot_run_is_refused_naming_it(client, tenant_a):
    """A body_schema pattern with a backreference is refused with a 422 naming body_schema and the pattern's place."""
    h = tenant_a.editor.headers
    schema = {"type": "object", "properties": {"email": {"type": "string", "pattern": "(a)\\1"}}}
    wf = await published_workflow(client, h, webhook_graph(body_schema=schema))
    hook = await make_hook(client, h, wf)
    body = json.dumps({"email": "aa"}).encode()
    doc = assert_problem(await client.post(f"/hooks/{hook['id']}", content=body, headers=signed(hook["secret"], body)), 422)
    assert doc["field"] == "body_schema" and "/properties/email/pattern" in doc["detail"]
    assert await runs_of(client, h, wf) == []
