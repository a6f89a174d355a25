"""code.javascript through the app: the API answers while a script spins, and the Prefect path runs it too."""

from __future__ import annotations

import asyncio

import pytest

from tests.backend.runs.test_controllers import wait_for_end
from tests.backend.runs.test_run_control import make_app, nodes_of, start
from tests.flows.fakes import edge, graph, node
from tests.backend.runs.test_prefect_runs import flow_run_of


def code_graph(code: str, **config) -> dict:
    return graph([node("start", "trigger.manual"), node("js", "code.javascript", code=code, **config),
                  node("after", "data.set", values={"got": "{{ nodes.js.output }}"})],
                 [edge("start", "js"), edge("js", "after")], name="code-run")


async def running_node(client, h, run_id: str, node_id: str, timeout: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        run = (await client.get(f"/api/runs/{run_id}", headers=h)).json()
        if nodes_of(run).get(node_id, {}).get("status") == "running":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"node {node_id} of run {run_id} never ran")


async def test_the_api_answers_while_a_script_spins_and_the_run_fails_at_its_time_limit(client, tenant_a):
    """A `while (true) {}` holds a worker process, not the app: requests are served until it is stopped."""
    h = tenant_a.editor.headers
    run_id = await start(client, h, code_graph("while (true) {}", time_limit_s=4))
    await running_node(client, h, run_id, "js")
    health = await client.get("/api/health")
    run = (await client.get(f"/api/runs/{run_id}", headers=h)).json()
    assert health.status_code == 200 and run["status"] == "running"   # answered while the script spins
    assert run["prefect_flow_run_id"] is None                          # the in-process engine ran it
    run = await wait_for_end(client, h, run_id)
    error = nodes_of(run)["js"]["error"]
    assert run["status"] == "failed" and error["pointer"] == "/time_limit_s" and "time limit" in error["message"]


async def test_a_computing_script_feeds_the_next_node_through_the_api(client, tenant_a):
    """The code's return value is the node's output downstream nodes read; its console is recorded."""
    h = tenant_a.editor.headers
    run_id = await start(client, h, code_graph("console.log('doubling'); return input.n * 2"), {"n": 21})
    run = await wait_for_end(client, h, run_id)
    assert run["status"] == "succeeded", run
    assert nodes_of(run)["after"]["output"] == {"output": {"got": 42}}
    assert nodes_of(run)["js"]["output"]["console"] == [{"level": "log", "message": "doubling"}]


class TestOnPrefect:
    @pytest.fixture
    def app(self, settings):
        return make_app(settings.model_copy(update={"prefect": "always"}))

    async def test_the_code_node_computes_and_fails_at_its_limit_inside_a_prefect_flow(self, prefect_api, app,
                                                                                       client, tenant_a):
        """On the Prefect path the script computes, and a runaway one fails the flow at its time limit."""
        h = tenant_a.editor.headers
        ok = await start(client, h, code_graph("return {sum: input.a + input.b}"), {"a": 1, "b": 2})
        run = await wait_for_end(client, h, ok, timeout=120)           # the first run may boot Prefect
        assert run["status"] == "succeeded", run
        assert await flow_run_of(client, h, ok)
        assert nodes_of(run)["after"]["output"] == {"output": {"got": {"sum": 3}}}
        spin = await start(client, h, code_graph("for (;;) {}", time_limit_s=1))
        run = await wait_for_end(client, h, spin, timeout=60)
        assert run["status"] == "failed"
        assert await flow_run_of(client, h, spin)
        assert nodes_of(run)["js"]["error"]["pointer"] == "/time_limit_s"
