"""Run control through the API,: suspended delays and the resumer,
approvals, pause and resume, retry, re-run from a node, the visible queue, restarts."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from pydantic import BaseModel

from backend.app import create_app
from backend.db.models import Run
from backend.runs.control import Resumer
from nodes.sdk import NodeConfigError, NodeSpec, NodeType
from tests.backend.conftest import assert_problem
from tests.flows import fakes
from tests.flows.fakes import edge, graph, node

ONCE: set[str] = set()


class OnceConfig(BaseModel):
    key: str
    retries: int | None = None
    retry_backoff_s: float = 1.0
    timeout_s: float | None = None


async def _once(ctx, config, inputs):
    if config.key not in ONCE:       # fails the first time its key is seen, anywhere
        ONCE.add(config.key)
        raise NodeConfigError("not yet", pointer="/key")
    return {"output": {"ok": True}}


FAIL_ONCE = NodeType(spec=NodeSpec(type="test.fail_once", version=1, title="Fail once", category="util", icon="dot",
                                   description="fails the first time"), config_model=OnceConfig, execute=_once)


def _registry():
    reg = fakes.registry()
    reg.add(FAIL_ONCE)
    return reg


def make_app(settings):
    app = create_app(settings)
    app.state.registry = _registry()
    return app


@pytest.fixture
def app(settings):
    return make_app(settings)


def executed(run_id: str) -> list[str]:
    return [nid for rid, nid, _ in fakes.EXECUTIONS if rid == run_id]


async def start(client, h, doc, payload=None) -> str:
    r = await client.post("/api/runs", json={"graph": doc, "input": payload or {}}, headers=h)
    assert r.status_code == 202, r.text
    return r.json()["id"]


async def wait_status(client, h, run_id: str, *statuses: str, timeout: float = 20) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        r = await client.get(f"/api/runs/{run_id}", headers=h)
        assert r.status_code == 200, r.text
        if r.json()["status"] in statuses:
            return r.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} is {r.json()['status']}, not {statuses}, after {timeout} s")


async def move_past_resume_at(db, run_id: str) -> None:
    """The clock moves on: the run's moment (and its waiting nodes') is now past, for the resumer."""
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    async with db.sessionmaker() as s:
        row = await s.get(Run, run_id)
        row.resume_at = past
        row.waiting_on = [{**w, "resume_at": past.isoformat()} for w in row.waiting_on]
        await s.commit()


def nodes_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["node_id"]: n for n in run["nodes"] if n["iteration"] is None}


async def wait_node(client, h, run_id: str, node_id: str, status: str = "running", timeout: float = 20) -> dict[str, Any]:
    """The run once its node `node_id` has `status` (a node that hangs is running once it started)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        run = (await client.get(f"/api/runs/{run_id}", headers=h)).json()
        if nodes_of(run).get(node_id, {}).get("status") == status:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"node {node_id} of run {run_id} is not {status} after {timeout} s")


LONG_DELAY = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=3600),
                    node("after", "test.record")], [edge("start", "wait"), edge("wait", "after")])

FORM = {"type": "object", "required": ["note"],
        "properties": {"note": {"type": "string", "minLength": 2}, "score": {"type": "integer"}}}
APPROVAL = graph([node("start", "trigger.manual"), node("prep", "test.record"),
                  node("ok", "approval.wait", title="Send the campaign?", form=FORM),
                  node("yes", "test.record"), node("no", "test.record")],
                 [edge("start", "prep"), edge("prep", "ok"), edge("ok", "yes", "approved"),
                  edge("ok", "no", "rejected")])


async def test_a_long_delay_suspends_the_run_and_a_resumer_tick_completes_it(app, client, db, tenant_a):
    h = tenant_a.editor.headers
    run_id = await start(client, h, LONG_DELAY, {"x": 1})
    run = await wait_status(client, h, run_id, "waiting")
    assert nodes_of(run)["wait"]["status"] == "waiting" and "after" not in nodes_of(run)
    resume_at = datetime.fromisoformat(run["resume_at"])
    assert timedelta(minutes=59) < resume_at - datetime.now(timezone.utc) <= timedelta(hours=1)
    assert run["waiting_on"][0]["node_id"] == "wait" and run["finished_at"] is None
    # the process holds nothing for it: no task in the run manager
    assert not app.state.runner.is_active(run_id) and run_id not in app.state.runner._tasks
    # a resumer's tick now (on this loop's database handle; it would need the runner only to resume one)
    assert await Resumer(SimpleNamespace(db=db)).tick() == 0        # not due yet: nothing resumed
    assert (await client.get(f"/api/runs/{run_id}", headers=h)).json()["status"] == "waiting"
    await move_past_resume_at(db, run_id)
    run = await wait_status(client, h, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded", run
    assert nodes_of(run)["wait"]["status"] == "succeeded" and nodes_of(run)["wait"]["output"] == {"output": {"x": 1}}
    assert executed(run_id) == ["after"]
    kinds = [e["kind"] for e in (await client.get(f"/api/runs/{run_id}/events", headers=h)).json()]
    assert "run.waiting" in kinds and kinds[-1] == "run.succeeded" and kinds.count("run.started") == 2


async def test_approve_with_a_valid_form_continues_on_the_approved_branch(client, tenant_a, tenant_b):
    h = tenant_a.editor.headers
    run_id = await start(client, h, APPROVAL)
    run = await wait_status(client, h, run_id, "waiting")
    assert run["resume_at"] is None and run["waiting_on"][0]["details"]["form"] == FORM
    assert nodes_of(run)["ok"]["status"] == "waiting"
    url = f"/api/runs/{run_id}/approve"
    assert_problem(await client.post(url, json={"note": "ok"}, headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.post(url, json={"note": "ok"}, headers=tenant_b.owner.headers), 404)
    bad = assert_problem(await client.post(url, json={"note": 5}, headers=h), 422)
    assert "note" in bad["detail"] and bad["problems"][0]["field"] == "note"
    missing = assert_problem(await client.post(url, json={"score": 1}, headers=h), 422)
    assert missing["problems"][0]["field"] == "note"
    r = await client.post(url, json={"note": "ship it", "score": 9}, headers=h)
    assert r.status_code == 202, r.text
    assert_problem(await client.post(url, json={"note": "again"}, headers=h), 409)
    assert_problem(await client.post(f"/api/runs/{run_id}/reject", json={"note": "no"}, headers=h), 409)
    run = await wait_status(client, h, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded", run
    assert executed(run_id) == ["prep", "yes"]                      # prep ran once, before the wait
    ok = nodes_of(run)["ok"]
    assert ok["status"] == "succeeded" and ok["output"]["approved"]["data"] == {"note": "ship it", "score": 9}
    assert ok["output"]["approved"]["decided_by"]["user_id"] == tenant_a.editor.user_id
    assert nodes_of(run)["no"]["status"] == "skipped"


async def test_reject_continues_on_the_rejected_branch(client, tenant_a):
    h = tenant_a.owner.headers
    run_id = await start(client, h, APPROVAL)
    await wait_status(client, h, run_id, "waiting")
    r = await client.post(f"/api/runs/{run_id}/reject", json={"note": "not now"}, headers=h)
    assert r.status_code == 202, r.text
    run = await wait_status(client, h, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded" and executed(run_id) == ["prep", "no"]
    assert nodes_of(run)["ok"]["output"]["rejected"]["decision"] == "rejected"


async def test_pause_then_resume_completes_without_running_completed_nodes_twice(client, tenant_a):
    h = tenant_a.editor.headers
    doc = graph([node("start", "trigger.manual"), node("a", "test.record"),
                 node("slow", "test.flaky", fail_times=1, kind="hang"), node("b", "test.record")],
                [edge("start", "a"), edge("a", "slow"), edge("slow", "b")])
    run_id = await start(client, h, doc)
    await wait_node(client, h, run_id, "slow")
    r = await client.post(f"/api/runs/{run_id}/pause", headers=h)
    assert r.status_code == 202 and r.json()["status"] == "paused", r.text
    run = (await client.get(f"/api/runs/{run_id}", headers=h)).json()
    assert nodes_of(run)["a"]["status"] == "succeeded" and nodes_of(run)["slow"]["status"] == "cancelled"
    assert_problem(await client.post(f"/api/runs/{run_id}/pause", headers=h), 409)
    assert_problem(await client.post(f"/api/runs/{run_id}/resume", headers=tenant_a.viewer.headers), 403)
    r = await client.post(f"/api/runs/{run_id}/resume", headers=h)
    assert r.status_code == 202, r.text
    run = await wait_status(client, h, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded", run
    assert executed(run_id) == ["a", "b"]                          # a was not run again
    assert fakes.ATTEMPTS[(run_id, "slow")] == 2                    # the interrupted node ran again
    assert len([n for n in run["nodes"] if n["node_id"] == "a"]) == 1
    assert_problem(await client.post(f"/api/runs/{run_id}/resume", headers=h), 409)


async def test_retry_reuses_the_nodes_that_succeeded(client, tenant_a):
    h = tenant_a.editor.headers
    key = f"retry-{tenant_a.id}"
    doc = graph([node("start", "trigger.manual"), node("a", "test.record"),
                 node("f", "test.fail_once", key=key), node("b", "test.record")],
                [edge("start", "a"), edge("a", "f"), edge("f", "b")])
    first = await start(client, h, doc, {"n": 1})
    run = await wait_status(client, h, first, "failed")
    assert run["error"]["node_id"] == "f" and executed(first) == ["a"]
    assert_problem(await client.post(f"/api/runs/{first}/rerun", json={"from_node": "b"}, headers=h), 422)
    r = await client.post(f"/api/runs/{first}/retry", headers=h)
    assert r.status_code == 202, r.text
    second = r.json()["id"]
    assert second != first and r.json()["retry_of"] == first
    run = await wait_status(client, h, second, "succeeded", "failed")
    assert run["status"] == "succeeded", run
    assert executed(second) == ["b"] and executed(first) == ["a"]
    assert nodes_of(run)["a"]["status"] == "succeeded" and run["input"] == {"n": 1}
    assert_problem(await client.post(f"/api/runs/{second}/retry", headers=h), 409)   # it succeeded


async def test_rerun_from_a_node_reuses_its_upstream(client, tenant_a, tenant_b):
    h = tenant_a.editor.headers
    doc = graph([node("start", "trigger.manual"), node("a", "test.record"), node("b", "test.record"),
                 node("c", "test.record")], [edge("start", "a"), edge("a", "b"), edge("b", "c")])
    first = await start(client, h, doc)
    await wait_status(client, h, first, "succeeded")
    ghost = assert_problem(await client.post(f"/api/runs/{first}/rerun", json={"from_node": "ghost"}, headers=h), 422)
    assert "ghost" in ghost["detail"]
    assert_problem(await client.post(f"/api/runs/{first}/rerun", json={"from_node": "b"},
                                     headers=tenant_b.owner.headers), 404)
    r = await client.post(f"/api/runs/{first}/rerun", json={"from_node": "b"}, headers=h)
    assert r.status_code == 202, r.text
    second = r.json()["id"]
    assert r.json()["rerun_from"] == "b" and r.json()["retry_of"] == first
    run = await wait_status(client, h, second, "succeeded", "failed")
    assert run["status"] == "succeeded" and executed(second) == ["b", "c"]
    assert nodes_of(run)["c"]["output"]["output"]["inputs"][0]["inputs"][0]["node"] == "a"


async def test_the_queue_shows_running_and_queued_runs_with_positions(settings, tenant_a, tenant_b):
    app = make_app(settings.model_copy(update={"tenant_max_concurrent_runs": 1}))
    hang = graph([node("start", "trigger.manual"), node("slow", "test.flaky", fail_times=1, kind="hang")],
                 [edge("start", "slow")])
    h = tenant_a.editor.headers
    async with AsyncTestClient(app=app) as client:
        ids = [await start(client, h, hang) for _ in range(3)]
        await wait_status(client, h, ids[0], "running")
        q = (await client.get("/api/runs/queue", headers=h)).json()
        assert q["limit"] == 1 and [r["id"] for r in q["running"]] == ids[:1]
        assert [(r["id"], r["queue_position"]) for r in q["queued"]] == [(ids[1], 1), (ids[2], 2)]
        assert (await client.get(f"/api/runs/{ids[2]}", headers=h)).json()["queue_position"] == 2
        assert (await client.get("/api/runs/queue", headers=tenant_b.owner.headers)).json()["queued"] == []
        await client.post(f"/api/runs/{ids[1]}/cancel", headers=h)
        q = (await client.get("/api/runs/queue", headers=h)).json()
        assert [(r["id"], r["queue_position"]) for r in q["queued"]] == [(ids[2], 1)]
        for run_id in ids:
            await client.post(f"/api/runs/{run_id}/cancel", headers=h)


async def test_a_waiting_run_survives_an_app_restart_and_stays_resumable(settings, client, tenant_a):
    h = tenant_a.editor.headers
    run_id = await start(client, h, APPROVAL)
    await wait_status(client, h, run_id, "waiting")
    async with AsyncTestClient(app=make_app(settings)) as restarted:   # its start-up marks crashed runs
        run = (await restarted.get(f"/api/runs/{run_id}", headers=h)).json()
        assert run["status"] == "waiting" and run["error"] is None
        r = await restarted.post(f"/api/runs/{run_id}/approve", json={"note": "after the restart"}, headers=h)
        assert r.status_code == 202, r.text
        run = await wait_status(restarted, h, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded" and executed(run_id) == ["prep", "yes"]
