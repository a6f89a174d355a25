"""Chains: a run of the source ending with a matching status starts the target with trigger
`workflow` and the source's outcome as payload; cycles are refused; depth is bounded."""

from __future__ import annotations

from tests.backend.runs.test_controllers import wait_for_end
from tests.backend.triggers.conftest import (assert_problem, published_workflow, runs_of, simple_graph,
                                             wait_for_runs)


async def chain(client, headers, source: str, target: str, **body):
    return await client.post(f"/api/workflows/{source}/chains", json={"target_workflow_id": target, **body},
                             headers=headers)


async def test_a_successful_source_run_starts_the_target_with_its_outcome(app, client, tenant_a):
    h = tenant_a.editor.headers
    a = await published_workflow(client, h, simple_graph(name="A"))
    b = await published_workflow(client, h, simple_graph(name="B"))
    c = await published_workflow(client, h, simple_graph(name="C"))
    r = await chain(client, h, a, b)
    assert r.status_code == 201, r.text
    assert r.json()["on"] == ["succeeded"] and r.json()["target_workflow_id"] == b
    assert (await chain(client, h, a, c, on=["failed"])).status_code == 201   # not on success

    r = await client.post(f"/api/workflows/{a}/runs", json={"input": {"x": 1}, "source": "published"}, headers=h)
    source_run = await wait_for_end(client, h, r.json()["id"])
    assert source_run["status"] == "succeeded"
    [target] = await wait_for_runs(client, h, b, 1)
    assert target["trigger"] == "workflow" and target["status"] == "succeeded"
    full = (await client.get(f"/api/runs/{target['id']}", headers=h)).json()
    assert full["input"] == {"source_run_id": source_run["id"], "source_workflow_id": a, "status": "succeeded",
                             "output": source_run["output"], "error": None, "depth": 1}
    assert full["output"] == {"echo": {"seen": full["input"]}}
    await app.state.chains.drain()                    # every chain the source run's end fired is done
    assert await runs_of(client, h, c) == []
    assert len(await runs_of(client, h, b)) == 1

    listed = (await client.get(f"/api/workflows/{b}/chains", headers=tenant_a.viewer.headers)).json()
    assert [(x["source_workflow_id"], x["target_workflow_id"]) for x in listed] == [(a, b)]


async def test_a_failed_source_run_starts_a_chain_on_failed(client, tenant_a):
    h = tenant_a.editor.headers
    failing = simple_graph(name="fails")
    failing["nodes"][0]["config"] = {"input_schema": {"type": "object", "required": ["must"]}}
    a = await published_workflow(client, h, failing)
    b = await published_workflow(client, h, simple_graph(name="on-failure"))
    assert (await chain(client, h, a, b, on=["failed", "cancelled"])).status_code == 201
    r = await client.post(f"/api/workflows/{a}/runs", json={"input": {}, "source": "published"}, headers=h)
    assert (await wait_for_end(client, h, r.json()["id"]))["status"] == "failed"
    [target] = await wait_for_runs(client, h, b, 1)
    full = (await client.get(f"/api/runs/{target['id']}", headers=h)).json()
    assert full["input"]["status"] == "failed" and full["input"]["error"]["message"]


async def test_cycles_are_refused(client, tenant_a):
    h = tenant_a.editor.headers
    a, b, c = [await published_workflow(client, h, simple_graph(name=n)) for n in "ABC"]
    doc = assert_problem(await chain(client, h, a, a), 422)
    assert doc["field"] == "target_workflow_id"
    assert (await chain(client, h, a, b)).status_code == 201
    assert (await chain(client, h, b, c)).status_code == 201
    doc = assert_problem(await chain(client, h, b, a), 422)
    assert "cycle" in doc["detail"]
    assert_problem(await chain(client, h, c, a), 422)         # A -> B -> C -> A
    assert (await chain(client, h, a, c)).status_code == 201   # a diamond is no cycle
    assert_problem(await chain(client, h, a, b, on=["sleeping"]), 422)
    assert_problem(await chain(client, h, a, b, on=[]), 422)


async def test_depth_is_bounded(app, client, tenant_a):
    app.state.chains.max_depth = 2
    h = tenant_a.editor.headers
    wfs = [await published_workflow(client, h, simple_graph(name=f"W{i}")) for i in range(4)]
    for s, t in zip(wfs, wfs[1:]):
        assert (await chain(client, h, s, t)).status_code == 201
    r = await client.post(f"/api/workflows/{wfs[0]}/runs", json={"input": {}, "source": "published"}, headers=h)
    await wait_for_end(client, h, r.json()["id"])
    [one] = await wait_for_runs(client, h, wfs[1], 1)
    [two] = await wait_for_runs(client, h, wfs[2], 1)
    assert (await client.get(f"/api/runs/{two['id']}", headers=h)).json()["input"]["depth"] == 2
    await wait_for_end(client, h, two["id"])
    await app.state.chains.drain()
    assert await runs_of(client, h, wfs[3]) == []     # depth 3 > 2: not started


async def test_tenants_and_roles(client, tenant_a, tenant_b):
    a = await published_workflow(client, tenant_a.editor.headers, simple_graph())
    b = await published_workflow(client, tenant_b.editor.headers, simple_graph())
    assert_problem(await chain(client, tenant_a.viewer.headers, a, a), 403)
    doc = assert_problem(await chain(client, tenant_a.editor.headers, a, b), 422)   # b is not in tenant A
    assert doc["field"] == "target_workflow_id"
    assert_problem(await chain(client, tenant_b.editor.headers, a, b), 404)
    a2 = await published_workflow(client, tenant_a.editor.headers, simple_graph())
    cid = (await chain(client, tenant_a.editor.headers, a, a2)).json()["id"]
    assert_problem(await client.get(f"/api/workflows/{a}/chains", headers=tenant_b.owner.headers), 404)
    assert_problem(await client.delete(f"/api/workflows/{a}/chains/{cid}", headers=tenant_a.viewer.headers), 403)
    assert (await client.delete(f"/api/workflows/{a}/chains/{cid}", headers=tenant_a.editor.headers)).status_code == 204
    assert (await client.get(f"/api/workflows/{a}/chains", headers=tenant_a.editor.headers)).json() == []


async def test_a_test_run_of_the_draft_fires_no_chain(app, client, tenant_a):
    """A run of A's draft started by hand (the editor's Run button) is a test run: B does not start."""
    h = tenant_a.editor.headers
    a = await published_workflow(client, h, simple_graph(name="A"))
    b = await published_workflow(client, h, simple_graph(name="B"))
    assert (await chain(client, h, a, b)).status_code == 201
    r = await client.post(f"/api/workflows/{a}/runs", json={"input": {}, "source": "draft"}, headers=h)
    draft_run = await wait_for_end(client, h, r.json()["id"])
    assert draft_run["status"] == "succeeded" and draft_run["workflow_version"] is None
    await app.state.chains.drain()
    assert await runs_of(client, h, b) == []
    r = await client.post(f"/api/workflows/{a}/runs", json={"input": {}, "source": "published"}, headers=h)
    await wait_for_end(client, h, r.json()["id"])
    [target] = await wait_for_runs(client, h, b, 1)          # the published run does fire it
    assert target["trigger"] == "workflow"


async def test_a_trigger_started_run_of_the_draft_fires_its_chains(client, tenant_a):
    """A chain whose target runs the draft (source "draft") starts a deployed run: its own chains fire."""
    h = tenant_a.editor.headers
    a, b, c = [await published_workflow(client, h, simple_graph(name=n)) for n in "ABC"]
    r = await client.post(f"/api/workflows/{a}/chains", json={"target_workflow_id": b, "source": "draft"}, headers=h)
    assert r.status_code == 201, r.text
    assert (await chain(client, h, b, c)).status_code == 201
    r = await client.post(f"/api/workflows/{a}/runs", json={"input": {}, "source": "published"}, headers=h)
    await wait_for_end(client, h, r.json()["id"])
    [on_b] = await wait_for_runs(client, h, b, 1)
    assert on_b["workflow_version"] is None and on_b["trigger"] == "workflow"
    [on_c] = await wait_for_runs(client, h, c, 1)
    full = (await client.get(f"/api/runs/{on_c['id']}", headers=h)).json()
    assert full["input"]["source_run_id"] == on_b["id"] and full["input"]["depth"] == 2


async def test_the_chain_sink_is_a_listener_of_the_bus(app, client):
    """The chain sink listens through EventBus.add_listener: the bus's emit is its own method."""
    bus = app.state.bus
    assert "emit" not in vars(bus)                           # the bus's own method, not a replacement
    assert app.state.chains.emit in bus._listeners
