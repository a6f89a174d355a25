"""flow.subworkflow through the API: child runs recorded and linked both ways, failures, cancelling
the parent, call cycles, depth and workspaces; in-process and on the Prefect path."""

from __future__ import annotations

import pytest

from tests.backend.runs.test_run_control import make_app, start, wait_status
from tests.flows.fakes import edge, graph, node

ENDED = ("succeeded", "failed", "cancelled")
DOUBLE = graph([node("start", "trigger.manual"), node("double", "data.set", values={"n": "{{ trigger.n * 2 }}"})],
               [edge("start", "double")], name="double")
BROKEN = graph([node("start", "trigger.manual"), node("boom", "test.flaky", fail_times=9, kind="config")],
               [edge("start", "boom")], name="broken")


def caller(workflow_id: str, name: str = "caller", **extra: object) -> dict:
    return graph([node("start", "trigger.manual"),
                  node("call", "flow.subworkflow", workflow_id=workflow_id, source="draft",
                       input={"n": "{{ trigger.n }}"}, **extra),
                  node("after", "data.set", values={"got": "{{ input }}"})],
                 [edge("start", "call"), edge("call", "after")], name=name)


@pytest.fixture
def app(settings):
    return make_app(settings)


async def saved(client, h, doc, name="wf") -> str:
    r = await client.post("/api/workflows", json={"name": name, "graph": doc}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def test_a_child_run_gives_its_output_and_is_linked_to_its_parent_and_back(client, tenant_a):
    """The parent's node outputs the child's result; the parent lists the child, the child names its parent."""
    h = tenant_a.editor.headers
    child_wf = await saved(client, h, DOUBLE, "double")
    parent = await wait_status(client, h, await start(client, h, caller(child_wf), {"n": 5}), *ENDED)
    assert parent["status"] == "succeeded", parent
    assert parent["output"] == {"after": {"got": {"double": {"n": 10}}}}
    [child] = parent["children"]
    assert child["node_id"] == "call" and child["workflow_id"] == child_wf and child["status"] == "succeeded"
    r = await client.get(f"/api/runs/{child['id']}", headers=h)
    assert r.json()["parent_run_id"] == parent["id"] and r.json()["parent_node_id"] == "call"
    assert r.json()["trigger"] == "subworkflow" and r.json()["input"] == {"n": 5}


async def test_a_failing_child_fails_the_calling_node_and_on_error_branch_catches_it(client, tenant_a):
    """The child's failure is the node's (kind subworkflow); with on_error branch the parent goes on."""
    h = tenant_a.editor.headers
    broken = await saved(client, h, BROKEN, "broken")
    failed = await wait_status(client, h, await start(client, h, caller(broken), {"n": 1}), *ENDED)
    assert failed["status"] == "failed" and failed["error"]["kind"] == "subworkflow"
    assert failed["children"][0]["status"] == "failed"
    doc = caller(broken, on_error="branch")
    doc["nodes"].append(node("handled", "data.set", values={"child": "{{ input.error.kind }}"}))
    doc["edges"].append(edge("call", "handled", source_port="error"))
    went_on = await wait_status(client, h, await start(client, h, doc, {"n": 1}), *ENDED)
    assert went_on["status"] == "succeeded" and went_on["output"] == {"handled": {"child": "subworkflow"}}


async def test_cancelling_the_parent_cancels_its_child(client, tenant_a):
    """POST /cancel on the parent ends the waiting child cancelled too."""
    h = tenant_a.editor.headers
    gated = await saved(client, h, graph([node("start", "trigger.manual"), node("hold", "test.gate", key="api-sub")],
                                         [edge("start", "hold")]), "gated")
    parent_id = await start(client, h, caller(gated), {"n": 1})
    running = await wait_status(client, h, parent_id, "running")
    while not running["children"]:
        running = await wait_status(client, h, parent_id, "running")
    child_id = running["children"][0]["id"]
    await wait_status(client, h, child_id, "running")
    r = await client.post(f"/api/runs/{parent_id}/cancel", headers=h)
    assert r.status_code == 202, r.text
    assert (await wait_status(client, h, parent_id, *ENDED))["status"] == "cancelled"
    assert (await wait_status(client, h, child_id, *ENDED))["status"] == "cancelled"


async def test_a_call_cycle_is_refused_naming_the_workflows(client, tenant_a):
    """A calls B calls A: the run fails at B's call, the message names A → B → A."""
    h = tenant_a.editor.headers
    a = await saved(client, h, DOUBLE, "Alpha")
    b = await saved(client, h, caller(a, "Beta"), "Beta")
    r = await client.put(f"/api/workflows/{a}", json={"graph": caller(b, "Alpha")}, headers=h)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/workflows/{a}/runs", json={"input": {"n": 1}}, headers=h)
    run = await wait_status(client, h, r.json()["id"], *ENDED)
    assert run["status"] == "failed"
    child = await wait_status(client, h, run["children"][0]["id"], *ENDED)
    assert child["error"]["kind"] == "subworkflow"
    assert f"call cycle refused: Alpha ({a[:8]}) → Beta ({b[:8]}) → Alpha ({a[:8]})" in child["error"]["message"]


async def test_another_workspaces_workflow_is_not_found(client, tenant_a, tenant_b):
    """A workflow id of another workspace is unknown to the caller: the node fails, no child starts."""
    theirs = await saved(client, tenant_b.editor.headers, DOUBLE, "theirs")
    h = tenant_a.editor.headers
    run = await wait_status(client, h, await start(client, h, caller(theirs), {"n": 1}), *ENDED)
    assert run["status"] == "failed" and run["error"]["kind"] == "config"
    assert run["error"]["pointer"] == "/workflow_id" and run["children"] == []


async def test_depth_is_bounded_by_the_setting(client, tenant_a, settings):
    """MAILY_SUBWORKFLOW_MAX_DEPTH bounds nesting: with 1, a child calling a grandchild is refused."""
    client.app.state.runner.engine.services.nodes.subworkflows.max_depth = 1
    h = tenant_a.editor.headers
    leaf = await saved(client, h, DOUBLE, "leaf")
    middle = await saved(client, h, caller(leaf, "middle"), "middle")
    run = await wait_status(client, h, await start(client, h, caller(middle), {"n": 1}), *ENDED)
    assert run["status"] == "failed"
    child = await wait_status(client, h, run["children"][0]["id"], *ENDED)
    assert "nest at most 1 deep" in child["error"]["message"] and child["children"] == []


ASKS = graph([node("start", "trigger.manual"),
              node("ok", "approval.wait", title="Go on?"),
              node("done", "data.set", values={"n": "{{ trigger.n + 1 }}"})],
             [edge("start", "ok"), edge("ok", "done", "approved")], name="asks")


async def waiting_child(client, h, parent_id: str) -> dict:
    parent = await wait_status(client, h, parent_id, "waiting", *ENDED)
    assert parent["status"] == "waiting", parent
    [entry] = parent["waiting_on"]
    assert entry["node_id"] == "call" and entry["reason"] == "subworkflow" and parent["resume_at"] is None
    child = await wait_status(client, h, entry["details"]["child_run_id"], "waiting")
    assert child["parent_run_id"] == parent_id
    return child


async def test_a_child_waiting_for_an_approval_suspends_its_parent_until_it_ends(app, client, tenant_a):
    """The child suspends on an approval: the parent waits too, holding nothing; once the child is
    approved and succeeds, the resumer continues the parent, whose node outputs the child's result."""
    h = tenant_a.editor.headers
    asks = await saved(client, h, ASKS, "asks")
    parent_id = await start(client, h, caller(asks), {"n": 1})
    child = await waiting_child(client, h, parent_id)
    assert not app.state.runner.is_active(parent_id)
    r = await client.post(f"/api/runs/{child['id']}/approve", json={}, headers=h)
    assert r.status_code == 202, r.text
    parent = await wait_status(client, h, parent_id, *ENDED)
    assert parent["status"] == "succeeded", parent
    assert parent["output"] == {"after": {"got": {"done": {"n": 2}}}}
    assert len(parent["children"]) == 1                       # the node took the result, no second child
    kinds = [e["kind"] for e in (await client.get(f"/api/runs/{parent_id}/events", headers=h)).json()]
    assert "run.waiting" in kinds and kinds.count("run.started") == 2


async def test_a_suspended_child_that_then_fails_fails_the_calling_node(client, tenant_a):
    """A waiting child cancelled by hand ends the parent's wait: the calling node fails (kind subworkflow)."""
    h = tenant_a.editor.headers
    asks = await saved(client, h, ASKS, "asks")
    parent_id = await start(client, h, caller(asks), {"n": 1})
    child = await waiting_child(client, h, parent_id)
    assert (await client.post(f"/api/runs/{child['id']}/cancel", headers=h)).status_code == 202
    parent = await wait_status(client, h, parent_id, *ENDED)
    assert parent["status"] == "failed" and parent["error"]["kind"] == "subworkflow", parent
    assert parent["error"]["node_id"] == "call" and "cancelled" in parent["error"]["message"]


async def test_cancelling_a_parent_waiting_on_its_child_cancels_the_child(client, tenant_a):
    """POST /cancel on a parent suspended on its child cancels the waiting child too."""
    h = tenant_a.editor.headers
    asks = await saved(client, h, ASKS, "asks")
    parent_id = await start(client, h, caller(asks), {"n": 1})
    child = await waiting_child(client, h, parent_id)
    assert (await client.post(f"/api/runs/{parent_id}/cancel", headers=h)).status_code == 202
    assert (await wait_status(client, h, child["id"], *ENDED))["status"] == "cancelled"
    assert (await wait_status(client, h, parent_id, *ENDED))["status"] == "cancelled"
