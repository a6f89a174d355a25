"""The run explorer in the browser: the runs page finds a run by a word only its output holds,
compares two runs node by node, opens a run painted on its canvas, and has no critical or serious
axe-core violation."""

from __future__ import annotations

import secrets
from typing import Any

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import api_as, axe_violations
from tests.e2e.test_editor import eventually

GRAPH = {"schema_version": 1, "name": "explorer", "nodes": [
    {"id": "start", "type": "trigger.manual", "type_version": 1, "position": {"x": 0, "y": 0}, "label": "Start", "config": {}},
    {"id": "say", "type": "data.set", "type_version": 1, "position": {"x": 260, "y": 0}, "label": "Say",
     "config": {"values": {"note": "{{ trigger.animal }}ish"}}}],
    "edges": [{"id": "e1", "source": "start", "source_port": "output", "target": "say", "target_port": "input"}]}


async def _run(server: LiveServer, tenant: TenantFixture, workflow_id: str, payload: dict[str, Any]) -> str:
    r = await api_as(server, tenant.editor, "POST", f"/api/workflows/{workflow_id}/runs", json={"input": payload})
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]

    async def ended() -> str | None:
        got = (await api_as(server, tenant.editor, "GET", f"/api/runs/{run_id}")).json()
        return got["status"] if got["status"] in ("succeeded", "failed") else None
    assert await eventually(ended, f"run {run_id} ends") == "succeeded"
    return run_id


async def _clean(page: Any, screen: str) -> None:
    found = await axe_violations(page)
    assert not found, f"{screen}:\n  " + "\n  ".join(found)


async def test_the_runs_page_finds_a_run_by_a_word_in_its_output(sign_in, server: LiveServer, tenant: TenantFixture,
                                                                 make_workflow) -> None:
    """Searching a word that only one run's node output holds lists that run alone; two runs picked
    compare node by node (the trigger and say differ); Open paints the run on its canvas."""
    wf = await make_workflow(GRAPH, name="explorer")
    animal = f"wombat{secrets.token_hex(3)}"
    found = await _run(server, tenant, wf["id"], {"animal": animal})
    other = await _run(server, tenant, wf["id"], {"animal": "koala"})

    page = await sign_in(tenant.viewer)
    await page.get_by_test_id("open-runs").click()
    await page.get_by_test_id(f"runs-row-{other}").wait_for()
    await _clean(page, "runs page")

    await page.get_by_test_id("runs-search").fill(f"{animal}ish")   # the input holds the animal, not "...ish"

    async def only_found() -> bool:
        rows = await page.locator("[data-testid^='runs-row-']").evaluate_all("els => els.map(e => e.dataset.testid)")
        return rows == [f"runs-row-{found}"]
    await eventually(only_found, "the search lists only the run whose output holds the word")
    assert await page.get_by_test_id(f"runs-replay-{found}").count() == 0   # a viewer may not re-run

    await page.get_by_test_id("runs-search").fill("")
    await page.get_by_test_id(f"runs-row-{other}").wait_for()
    await page.get_by_test_id(f"runs-pick-{found}").check()
    await page.get_by_test_id(f"runs-pick-{other}").check()
    await page.get_by_test_id("runs-compare").click()
    await page.get_by_test_id("compare-row-say").wait_for()
    assert await page.get_by_test_id("compare-row-say").get_attribute("data-same") == "false"
    assert animal in await page.get_by_test_id("compare-row-say").inner_text()
    await _clean(page, "runs page comparing two runs")

    await page.get_by_test_id(f"runs-open-{found}").click()
    await page.get_by_test_id("node-say").wait_for()

    async def painted() -> bool:
        return await page.get_by_test_id("node-say").get_attribute("data-status") == "succeeded"
    await eventually(painted, "the opened run is painted on the canvas")
    assert await page.get_by_test_id("run-bar").get_attribute("data-run-id") == found


async def test_an_editor_re_runs_a_run_with_the_same_input(sign_in, server: LiveServer, tenant: TenantFixture,
                                                          make_workflow) -> None:
    """Re-run on the runs page starts a new run (trigger replay) with the same input."""
    wf = await make_workflow(GRAPH, name="replay")
    first = await _run(server, tenant, wf["id"], {"animal": "otter"})
    page = await sign_in(tenant.editor)
    await page.goto(server.url + "/runs")
    await page.get_by_test_id(f"runs-replay-{first}").click()
    await page.get_by_test_id("runs-message").wait_for()

    async def replayed() -> list[dict[str, Any]]:
        r = await api_as(server, tenant.editor, "GET", f"/api/runs?workflow_id={wf['id']}&trigger=replay")
        return r.json()
    runs = await eventually(replayed, "a replay run exists")
    detail = (await api_as(server, tenant.editor, "GET", f"/api/runs/{runs[0]['id']}")).json()
    assert detail["input"] == {"animal": "otter"}
