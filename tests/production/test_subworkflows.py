"""flow.subworkflow in production mode: the child runs on the worker executing its parent."""

from __future__ import annotations

from tests.backend.runs.test_subworkflows import DOUBLE, caller
from tests.flows.fakes import edge, graph, node
from tests.production.conftest import wait_status
from tests.production.test_durability import node_status

ENDED = ("succeeded", "failed", "cancelled")


async def saved(client, h, doc, name: str) -> str:
    r = await client.post("/api/workflows", json={"name": name, "graph": doc}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def started(client, h, doc, payload) -> str:
    r = await client.post("/api/runs", json={"graph": doc, "input": payload}, headers=h)
    assert r.status_code == 202, r.text
    return r.json()["id"]


async def test_a_child_runs_on_the_worker_and_gives_its_output_to_the_parent(prod_app, workers, tenant):
    """A parent executing on `maily worker` calls a saved workflow: the child is recorded, linked
    both ways, executed on the worker, and its output is the calling node's."""
    workers(1)
    h = tenant.editor.headers
    child_wf = await saved(prod_app, h, DOUBLE, "double")
    parent = await wait_status(prod_app, h, await started(prod_app, h, caller(child_wf), {"n": 21}), ENDED, timeout=60)
    assert parent["status"] == "succeeded", parent
    assert parent["output"] == {"after": {"got": {"double": {"n": 42}}}}
    [child] = parent["children"]
    child_run = (await prod_app.get(f"/api/runs/{child['id']}", headers=h)).json()
    assert child_run["status"] == "succeeded" and child_run["parent_run_id"] == parent["id"]
    events = (await prod_app.get(f"/api/runs/{child['id']}/events", headers=h)).json()
    assert [e for e in events if e["kind"] == "run.started"][0]["data"]["worker"]   # it ran on a worker


async def test_cancelling_a_parent_on_a_worker_cancels_its_child(prod_app, workers, tenant):
    """POST /cancel on a parent whose child is running on the worker ends both cancelled."""
    workers(1)
    h = tenant.editor.headers
    slow = await saved(prod_app, h, graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=20)],
                                          [edge("start", "wait")]), "slow")
    parent_id = await started(prod_app, h, caller(slow), {"n": 1})
    running = await wait_status(prod_app, h, parent_id, ("running",), timeout=30)
    while not running["children"]:
        running = await wait_status(prod_app, h, parent_id, ("running",), timeout=30)
    child_id = running["children"][0]["id"]
    await node_status(prod_app, h, child_id, "wait", "running")
    r = await prod_app.post(f"/api/runs/{parent_id}/cancel", headers=h)
    assert r.status_code == 202, r.text
    assert (await wait_status(prod_app, h, parent_id, ENDED, timeout=30))["status"] == "cancelled"
    assert (await wait_status(prod_app, h, child_id, ENDED, timeout=30))["status"] == "cancelled"


async def test_a_child_waiting_for_an_approval_on_a_worker_suspends_and_then_resumes_its_parent(
        prod_app, workers, tenant):
    """On workers too, a child suspended on an approval suspends its parent; approving the child
    lets the app's resumer continue the parent on a worker with the child's output."""
    from tests.backend.runs.test_subworkflows import ASKS

    workers(1)
    h = tenant.editor.headers
    asks = await saved(prod_app, h, ASKS, "asks")
    parent_id = await started(prod_app, h, caller(asks), {"n": 4})
    parent = await wait_status(prod_app, h, parent_id, ("waiting", *ENDED), timeout=60)
    assert parent["status"] == "waiting" and parent["waiting_on"][0]["reason"] == "subworkflow", parent
    child_id = parent["waiting_on"][0]["details"]["child_run_id"]
    await wait_status(prod_app, h, child_id, ("waiting",), timeout=30)
    r = await prod_app.post(f"/api/runs/{child_id}/approve", json={}, headers=h)
    assert r.status_code == 202, r.text
    parent = await wait_status(prod_app, h, parent_id, ENDED, timeout=60)
    assert parent["status"] == "succeeded", parent
    assert parent["output"] == {"after": {"got": {"done": {"n": 5}}}}
