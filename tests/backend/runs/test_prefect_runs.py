"""Through the API, a workflow with durable nodes runs as a Prefect flow on the embedded server."""

from __future__ import annotations

import pytest

from backend.settings import Settings
from tests.backend.runs.test_controllers import wait_for_end
from tests.flows.fakes import edge, graph, node


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="auto",
                    prefect_at_start=False)


async def test_a_durable_workflow_runs_as_a_prefect_flow_and_every_node_is_recorded(prefect_api, client, tenant_a):
    h = tenant_a.editor.headers
    doc = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=0.1),
                 node("after", "data.set", values={"done": True})],
                [edge("start", "wait"), edge("wait", "after")], name="durable-api")
    r = await client.post("/api/runs", json={"graph": doc}, headers=h)
    assert r.status_code == 202
    run = await wait_for_end(client, h, r.json()["id"], timeout=120)   # the first run boots Prefect
    assert run["status"] == "succeeded", run
    assert await flow_run_of(client, h, run["id"])
    assert {n["node_id"]: n["status"] for n in run["nodes"]} == {"start": "succeeded", "wait": "succeeded",
                                                                "after": "succeeded"}


# -- suspended runs on the Prefect path ---------------------------------------------------------

import asyncio  # noqa: E402

from tests.flows.test_prefect_flow import _flow_run  # noqa: E402
from tests.backend.runs.test_run_control import APPROVAL, LONG_DELAY, executed, make_app, move_past_resume_at, nodes_of, start, wait_status  # noqa: E402


@pytest.fixture
def app(settings):
    # every run through Prefect, with the test node types (test.record counts executions)
    return make_app(settings.model_copy(update={"prefect": "always", "resume_poll_s": 0.2}))


async def prefect_flow_run(api_url: str, flow_run_id: str, timeout: float = 30):
    """The Prefect flow run once Prefect has it in a final state."""
    flow_run, _ = await _flow_run(api_url, flow_run_id, timeout, tasks_too=False)
    return flow_run


async def flow_run_of(client, headers, run_id: str, other_than: str | None = None, timeout: float = 30) -> str:
    """The run's Prefect flow run id once its record (written beside the run) has created it;
    with other_than, once it is a newer pass's."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        run = (await client.get(f"/api/runs/{run_id}", headers=headers)).json()
        if run["prefect_flow_run_id"] and run["prefect_flow_run_id"] != other_than:
            return run["prefect_flow_run_id"]
        assert loop.time() < deadline, f"run {run_id} got no (new) Prefect flow run within {timeout} s"
        await asyncio.sleep(0.05)


async def let_go(runner, run_id: str, timeout: float = 10) -> None:
    """The run manager holds no task for the run a moment after `run.waiting` is recorded."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while runner.is_active(run_id):
        assert loop.time() < deadline, f"the app still holds run {run_id} {timeout} s after it suspended"
        await asyncio.sleep(0.05)


class TestSuspendedRunsOnPrefect:
    async def test_a_long_delay_suspends_holding_nothing_and_the_resumer_completes_it(self, prefect_api, app,
                                                                                         client, db, tenant_a):
        """The flow run ends when the run suspends (no process, task or slot held); when its time
        comes the resumer starts a second flow run of the same run id, which reuses and succeeds."""
        h = tenant_a.editor.headers
        run_id = await start(client, h, LONG_DELAY, {"x": 1})
        run = await wait_status(client, h, run_id, "waiting", timeout=120)      # the first run boots Prefect
        first_flow = await flow_run_of(client, h, run_id)
        assert nodes_of(run)["wait"]["status"] == "waiting" and "after" not in nodes_of(run)
        flow_run = await prefect_flow_run(await prefect_api.ready(), first_flow)
        assert flow_run.state.is_final() and flow_run.name == run_id            # Prefect holds nothing either
        await let_go(app.state.runner, run_id)
        assert app.state.runner.queue_of(tenant_a.id) == ([], [])
        await move_past_resume_at(db, run_id)
        run = await wait_status(client, h, run_id, "succeeded", "failed", timeout=60)
        assert run["status"] == "succeeded", run
        second_flow = await flow_run_of(client, h, run_id, other_than=first_flow)
        assert nodes_of(run)["wait"]["output"] == {"output": {"x": 1}} and executed(run_id) == ["after"]
        second = await prefect_flow_run(await prefect_api.ready(), second_flow)
        assert second.name == run_id and second.state.is_completed()

    async def test_an_approval_waits_then_approve_resumes_it_on_the_approved_branch(self, prefect_api, app,
                                                                                     client, tenant_a, tenant_b):
        """approval.wait suspends the Prefect run; approving (editor of the tenant only) finishes it in a new flow run."""
        h = tenant_a.editor.headers
        run_id = await start(client, h, APPROVAL)
        run = await wait_status(client, h, run_id, "waiting", timeout=120)
        assert await flow_run_of(client, h, run_id) and run["resume_at"] is None
        await let_go(app.state.runner, run_id)
        url = f"/api/runs/{run_id}/approve"
        assert (await client.post(url, json={"note": "ok"}, headers=tenant_b.owner.headers)).status_code == 404
        assert (await client.post(url, json={"note": "ok"}, headers=tenant_a.viewer.headers)).status_code == 403
        r = await client.post(url, json={"note": "ship it"}, headers=h)
        assert r.status_code == 202, r.text
        run = await wait_status(client, h, run_id, "succeeded", "failed", timeout=60)
        assert run["status"] == "succeeded", run
        assert executed(run_id) == ["prep", "yes"]
        assert nodes_of(run)["ok"]["output"]["approved"]["data"] == {"note": "ship it"}
        assert nodes_of(run)["no"]["status"] == "skipped"

    async def test_pause_interrupts_the_flow_run_and_resume_completes_it_in_a_new_one(self, prefect_api, app,
                                                                                       client, tenant_a):
        """Pausing a run inside a Prefect flow ends it paused with completed nodes kept; resume reuses them."""
        from tests.flows import fakes
        from tests.flows.fakes import edge, graph, node

        h = tenant_a.editor.headers
        doc = graph([node("start", "trigger.manual"), node("a", "test.record"),
                     node("slow", "test.flaky_durable", fail_times=1, kind="hang", timeout_s=60),
                     node("b", "test.record")],
                    [edge("start", "a"), edge("a", "slow"), edge("slow", "b")])
        run_id = await start(client, h, doc)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while fakes.ATTEMPTS.get((run_id, "slow")) != 1:                  # the durable task is in its call
            assert loop.time() < deadline, "the Prefect run never reached the slow node"
            await asyncio.sleep(0.1)
        r = await client.post(f"/api/runs/{run_id}/pause", headers=h)
        assert r.status_code == 202 and r.json()["status"] == "paused", r.text
        run = (await client.get(f"/api/runs/{run_id}", headers=h)).json()
        first_flow = await flow_run_of(client, h, run_id)
        assert nodes_of(run)["a"]["status"] == "succeeded"
        assert nodes_of(run)["slow"]["status"] == "cancelled" and not app.state.runner.is_active(run_id)
        assert (await client.post(f"/api/runs/{run_id}/resume", headers=h)).status_code == 202
        run = await wait_status(client, h, run_id, "succeeded", "failed", timeout=60)
        assert run["status"] == "succeeded", run
        assert executed(run_id) == ["a", "b"] and fakes.ATTEMPTS[(run_id, "slow")] == 2
        assert await flow_run_of(client, h, run_id, other_than=first_flow)


# -- flow.subworkflow on the Prefect path ----------------------------------------------------------

async def test_a_subworkflow_on_prefect_links_the_child_and_cancels_it_with_the_parent(prefect_api, client, tenant_a):
    """Every run a Prefect flow run: the child gives its output, is linked both ways, and is cancelled with its parent."""
    from tests.backend.runs.test_subworkflows import DOUBLE, ENDED, caller, saved

    h = tenant_a.editor.headers
    child_wf = await saved(client, h, DOUBLE, "double")
    parent = await wait_status(client, h, await start(client, h, caller(child_wf), {"n": 3}), *ENDED, timeout=120)
    assert parent["status"] == "succeeded", parent
    assert parent["output"] == {"after": {"got": {"double": {"n": 6}}}}
    child = (await client.get(f"/api/runs/{parent['children'][0]['id']}", headers=h)).json()
    assert child["parent_run_id"] == parent["id"]
    assert await flow_run_of(client, h, child["id"]) != await flow_run_of(client, h, parent["id"])

    gated = await saved(client, h, graph([node("start", "trigger.manual"), node("hold", "test.gate", key="pf-sub")],
                                         [edge("start", "hold")]), "gated")
    parent_id = await start(client, h, caller(gated), {"n": 1})
    running = await wait_status(client, h, parent_id, "running", timeout=60)
    while not running["children"]:
        running = await wait_status(client, h, parent_id, "running")
    child_id = running["children"][0]["id"]
    await wait_status(client, h, child_id, "running", timeout=60)
    assert (await client.post(f"/api/runs/{parent_id}/cancel", headers=h)).status_code == 202
    assert (await wait_status(client, h, parent_id, *ENDED))["status"] == "cancelled"
    assert (await wait_status(client, h, child_id, *ENDED))["status"] == "cancelled"
