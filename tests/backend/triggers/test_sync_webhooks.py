"""Synchronous webhooks: `respond` when_done answers the run's output (or its error as problem+json),
`node` answers what webhook.respond sets, and a slow run answers 504 with its id and goes on;
on the in-process engine and with every run a Prefect flow run."""

from __future__ import annotations

import json

import pytest

from backend.triggers.respond import SANDBOX
from nodes.webhook.respond import Config as RespondConfig
from tests.backend.runs.test_controllers import wait_for_end
from tests.backend.runs.test_run_control import make_app
from tests.backend.triggers.conftest import assert_problem, published_workflow
from tests.backend.triggers.test_webhooks import make_hook, signed
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node


@pytest.fixture(params=["never", "always"])
def settings(request, db_url, tmp_path):
    from backend.settings import Settings

    if request.param == "always":
        request.getfixturevalue("prefect_api")   # the session's embedded Prefect server, shared with the app
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect=request.param,
                    prefect_at_start=False, webhook_respond_timeout_s=60)


@pytest.fixture
def app(settings):
    return make_app(settings)      # with the test node types (test.gate holds a run open)


def hooked(*nodes, edges) -> dict:
    return graph([node("start", "trigger.webhook"), *nodes], edges, name="sync")


async def deliver(client, hook, payload) -> object:
    body = json.dumps(payload).encode()
    return await client.post(f"/hooks/{hook['id']}", content=body, headers=signed(hook["secret"], body))


async def test_a_webhook_answers_with_what_webhook_respond_sets_and_the_run_goes_on(client, tenant_a):
    """respond "node": status, headers and body come from the node's expressions; later nodes still run."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, hooked(
        node("reply", "webhook.respond", status=201, headers={"X-Order": "{{ trigger.body.id }}"},
             body={"accepted": "{{ trigger.body.id }}", "twice": "{{ trigger.body.n * 2 }}"}),
        node("after", "data.set", values={"done": True}),
        edges=[edge("start", "reply"), edge("reply", "after")]))
    hook = await make_hook(client, h, wf, source="published", respond="node")
    assert hook["respond"] == "node"
    r = await deliver(client, hook, {"id": "A-7", "n": 21})
    assert r.status_code == 201, (r.text, r.headers)
    assert r.json() == {"accepted": "A-7", "twice": 42}
    assert r.headers["x-order"] == "A-7"
    assert r.headers["content-security-policy"] == SANDBOX["content-security-policy"]
    run = await wait_for_end(client, h, r.headers["x-maily-run-id"], timeout=60)
    assert run["status"] == "succeeded" and run["output"] == {"after": {"done": True}}


async def test_when_done_answers_the_output_or_the_error_as_problem_json(client, tenant_a):
    """respond "when_done": 200 with the run's output; a failed run is problem+json naming its node."""
    h = tenant_a.editor.headers
    ok = await published_workflow(client, h, hooked(node("sum", "data.set", values={"n": "{{ trigger.body.n + 1 }}"}),
                                                    edges=[edge("start", "sum")]))
    hook = await make_hook(client, h, ok, respond="when_done")
    r = await deliver(client, hook, {"n": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {"sum": {"n": 2}}
    tested = await client.post(f"/api/workflows/{ok}/webhooks/{hook['id']}/test", json={"body": {"n": 4}}, headers=h)
    assert tested.json()["status"] == 200 and tested.json()["body"] == {"sum": {"n": 5}}
    assert tested.json()["run_id"]     # the editor's test delivery follows the run it started
    broken = await published_workflow(client, h, hooked(node("boom", "test.flaky", fail_times=9, kind="config"),
                                                        edges=[edge("start", "boom")]))
    hook = await make_hook(client, h, broken, respond="when_done")
    r = await deliver(client, hook, {"n": 1})
    problem = assert_problem(r, 500)
    assert problem["node_id"] == "boom" and problem["kind"] == "config" and problem["run_id"]
    assert "the url is wrong" in problem["detail"]


async def test_a_slow_run_answers_504_with_its_id_and_goes_on(app, client, tenant_a):
    """Past MAILY_WEBHOOK_RESPOND_TIMEOUT_S the sender gets 504 and the run id; the run is not cancelled."""
    h = tenant_a.editor.headers
    key = f"sync-504-{app.state.settings.prefect}"
    wf = await published_workflow(client, h, hooked(node("hold", "test.gate", key=key),
                                                    node("reply", "webhook.respond", body="late"),
                                                    edges=[edge("start", "hold"), edge("hold", "reply")]))
    hook = await make_hook(client, h, wf, respond="node")
    app.state.settings.webhook_respond_timeout_s = 1.5
    r = await deliver(client, hook, {})
    problem = assert_problem(r, 504)
    run = (await client.get(f"/api/runs/{problem['run_id']}", headers=h)).json()
    assert run["status"] in ("queued", "running")
    fakes.GATES.setdefault(key, __import__("asyncio").Event()).set()
    assert (await wait_for_end(client, h, problem["run_id"], timeout=60))["status"] == "succeeded"


async def test_respond_is_set_and_changed_through_the_api(client, tenant_a):
    """POST /api/workflows/{id}/webhooks takes {source, respond}; PUT changes respond; a bad value is 422."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, hooked(node("x", "data.set"), edges=[edge("start", "x")]))
    hook = await make_hook(client, h, wf, source="draft", respond="when_done")
    assert (hook["source"], hook["respond"]) == ("draft", "when_done")
    r = await client.put(f"/api/workflows/{wf}/webhooks/{hook['id']}", json={"respond": "immediately"}, headers=h)
    assert r.status_code == 200 and r.json()["respond"] == "immediately"
    r = await client.post(f"/api/workflows/{wf}/webhooks", json={"respond": "later"}, headers=h)
    assert_problem(r, 422)


def test_webhook_respond_refuses_headers_that_act_on_the_apps_origin():
    """Cookies, CSP, CORS and header injection are refused by the node's config."""
    for headers in ({"Set-Cookie": "a=b"}, {"Content-Security-Policy": "x"}, {"Access-Control-Allow-Origin": "*"},
                    {"X-A": "one\r\nSet-Cookie: a=b"}, {"bad name": "x"}):
        with pytest.raises(ValueError):
            RespondConfig(headers=headers)
    assert RespondConfig(headers={"X-Ok": "yes", "Content-Type": "text/csv"}).headers["X-Ok"] == "yes"
