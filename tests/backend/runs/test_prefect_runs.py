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
    assert run["prefect_flow_run_id"]
    assert {n["node_id"]: n["status"] for n in run["nodes"]} == {"start": "succeeded", "wait": "succeeded",
                                                                "after": "succeeded"}
