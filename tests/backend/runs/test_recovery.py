"""Recovery at start-up: runs a previous process left queued or running continue by themselves
(backend/runs/recovery.py). The crash is staged in the database as a killed app leaves it; the
fault tests (tests/faults/) kill real processes."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from litestar.testing import AsyncTestClient

from backend.db.models import NodeRun, Run, RunEvent
from tests.backend.conftest import assert_problem
from tests.backend.runs.test_run_control import executed, make_app, nodes_of, wait_status
from tests.flows.fakes import edge, graph, node

# "effect" has unkeyed side effects (test.flaky_durable); "calc" has none (test.record)
CHAIN = graph([node("start", "trigger.manual"), node("prep", "test.record"), node("effect", "test.flaky_durable"),
               node("calc", "test.record"), node("after", "test.record")],
              [edge("start", "prep"), edge("prep", "effect"), edge("prep", "calc"), edge("effect", "after"),
               edge("calc", "after")])


async def _stage(db, member, status: str, running: tuple[str, ...] = (), done: tuple[str, ...] = ()) -> str:
    """A run as a SIGKILLed app leaves it: `status`, `done` nodes succeeded, `running` ones running."""
    now = datetime.now(timezone.utc)
    run_id = uuid.uuid4().hex
    async with db.sessionmaker() as s:
        s.add(Run(id=run_id, tenant_id=member.tenant_id, status=status, trigger="api", input={}, graph=CHAIN,
                  created_by=member.user_id, created_at=now, started_at=now if status == "running" else None))
        await s.flush()
        events = ["run.queued"] + (["run.started"] if status == "running" else [])
        for seq, kind in enumerate(events, 1):
            s.add(RunEvent(run_id=run_id, seq=seq, kind=kind, at=now, data={}))
        for nid in done:
            s.add(NodeRun(id=uuid.uuid4().hex, run_id=run_id, tenant_id=member.tenant_id, node_id=nid,
                          node_type="trigger.manual" if nid == "start" else "test.record", status="succeeded",
                          attempts=1, started_at=now, finished_at=now, output={"output": {"staged": nid}}))
        for nid in running:
            s.add(NodeRun(id=uuid.uuid4().hex, run_id=run_id, tenant_id=member.tenant_id, node_id=nid,
                          node_type="test.flaky_durable" if nid == "effect" else "test.record", status="running",
                          attempts=1, started_at=now))
        await s.commit()
    return run_id


async def _events(client, h, run_id):
    return [e["kind"] for e in (await client.get(f"/api/runs/{run_id}/events", headers=h)).json()]


async def test_a_queued_run_left_by_a_crash_starts_again_by_itself(settings, db, tenant_a):
    """A run that was only queued when the app died runs to success at the next start-up."""
    h = tenant_a.editor.headers
    run_id = await _stage(db, tenant_a.editor, "queued")
    async with AsyncTestClient(app=make_app(settings.model_copy(update={"prefect": "never"}))) as client:
        run = await wait_status(client, h, run_id, "succeeded", "failed", "waiting")
    assert run["status"] == "succeeded", run
    assert sorted(executed(run_id)) == ["after", "calc", "prep"]


async def test_a_running_run_resumes_from_its_outputs_and_reruns_a_safe_interrupted_node(settings, db, tenant_a):
    """A running run resumes under its id with run.resumed, reuses what succeeded and runs the interrupted pure node again."""
    h = tenant_a.editor.headers
    run_id = await _stage(db, tenant_a.editor, "running", running=("calc",), done=("start", "prep", "effect"))
    async with AsyncTestClient(app=make_app(settings.model_copy(update={"prefect": "never"}))) as client:
        run = await wait_status(client, h, run_id, "succeeded", "failed", "waiting")
        kinds = await _events(client, h, run_id)
    assert run["status"] == "succeeded", run
    assert "run.resumed" in kinds and kinds.index("run.resumed") < kinds.index("run.succeeded")
    assert sorted(executed(run_id)) == ["after", "calc"]        # prep and effect were reused
    assert all(n["status"] != "running" for n in run["nodes"])


async def test_an_interrupted_unkeyed_node_waits_for_a_decision_and_skip_goes_on(settings, db, tenant_a, tenant_b):
    """An interrupted node with unkeyed side effects is not run again by itself: the run waits until an editor decides."""
    h = tenant_a.editor.headers
    run_id = await _stage(db, tenant_a.editor, "running", running=("effect",), done=("start", "prep", "calc"))
    async with AsyncTestClient(app=make_app(settings.model_copy(update={"prefect": "never"}))) as client:
        run = await wait_status(client, h, run_id, "waiting", "succeeded", "failed")
        assert run["status"] == "waiting", run
        assert [(w["node_id"], w["reason"]) for w in run["waiting_on"]] == [("effect", "interrupted")]
        assert nodes_of(run)["effect"]["status"] == "waiting" and "after" not in nodes_of(run)
        url = f"/api/runs/{run_id}/interrupted"
        body = {"node_id": "effect", "action": "skip"}
        assert_problem(await client.post(url, json=body, headers=tenant_a.viewer.headers), 403)
        assert_problem(await client.post(url, json=body, headers=tenant_b.owner.headers), 404)
        assert_problem(await client.post(url, json={"node_id": "effect", "action": "twice"}, headers=h), 422)
        assert_problem(await client.post(url, json={"node_id": "calc", "action": "skip"}, headers=h), 409)
        r = await client.post(url, json=body, headers=h)
        assert r.status_code == 202, r.text
        run = await wait_status(client, h, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded", run
    assert executed(run_id) == ["after"]                          # effect never ran again
    assert nodes_of(run)["after"]["input"] is not None
    assert all(n["status"] != "running" for n in run["nodes"])


async def test_rerun_decision_executes_the_interrupted_node_again(settings, db, tenant_a):
    """Choosing rerun executes the interrupted node again and the run completes."""
    h = tenant_a.editor.headers
    run_id = await _stage(db, tenant_a.editor, "running", running=("effect",), done=("start", "prep", "calc"))
    async with AsyncTestClient(app=make_app(settings.model_copy(update={"prefect": "never"}))) as client:
        await wait_status(client, h, run_id, "waiting")
        r = await client.post(f"/api/runs/{run_id}/interrupted", json={"node_id": "effect", "action": "rerun"},
                              headers=tenant_a.owner.headers)
        assert r.status_code == 202, r.text
        run = await wait_status(client, h, run_id, "succeeded", "failed")
    assert run["status"] == "succeeded", run
    assert nodes_of(run)["effect"]["output"] == {"output": {"attempts": 1}}
