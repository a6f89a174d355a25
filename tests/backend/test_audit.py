"""The audit trail: workflow changes, publishes, restores, runs started and cancelled are
recorded with who did them; GET /api/audit is for owners, filtered, tenant scoped."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backend.settings import Settings
from tests.backend.conftest import assert_problem
from tests.backend.runs.test_run_control import wait_node
from tests.flows.fakes import edge, graph, node

import pytest

OK = graph([node("start", "trigger.manual"), node("hello", "data.set", values={"greeting": "Hi"})],
           [edge("start", "hello")], name="audited")
SLOW = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=5)], [edge("start", "wait")])


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False)


async def test_every_action_is_recorded_and_owners_read_it(client, tenant_a, tenant_b):
    ed, owner = tenant_a.editor.headers, tenant_a.owner.headers
    since = (datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat()
    wf = (await client.post("/api/workflows", json={"name": "Audited", "graph": OK}, headers=ed)).json()
    wid = wf["id"]
    assert (await client.put(f"/api/workflows/{wid}", json={"description": "v1"}, headers=ed)).status_code == 200
    assert (await client.post(f"/api/workflows/{wid}/publish", json={"note": "first"}, headers=ed)).status_code == 201
    assert (await client.post(f"/api/workflows/{wid}/versions/1/restore", headers=owner)).status_code == 200
    r = await client.post(f"/api/workflows/{wid}/runs", json={"input": {}}, headers=ed)
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    slow = (await client.post("/api/runs", json={"graph": SLOW}, headers=ed)).json()["id"]
    await wait_node(client, ed, slow, "wait")
    assert (await client.post(f"/api/runs/{slow}/cancel", headers=ed)).status_code == 202
    assert (await client.delete(f"/api/workflows/{wid}", headers=ed)).status_code == 204

    r = await client.get("/api/audit", params={"since": since}, headers=owner)
    assert r.status_code == 200, r.text
    events = r.json()
    actions = [e["action"] for e in reversed(events)]          # oldest first
    assert actions == ["workflow.create", "workflow.update", "workflow.publish", "workflow.restore", "run.start",
                       "run.start", "run.cancel", "workflow.delete"]
    by_action = {e["action"]: e for e in events}
    assert by_action["workflow.publish"]["details"] == {"version": 1, "note": "first"}
    assert by_action["workflow.update"]["details"] == {"fields": ["description"]}
    assert by_action["workflow.restore"]["actor_id"] == tenant_a.owner.user_id
    assert by_action["workflow.create"]["actor_id"] == tenant_a.editor.user_id
    assert by_action["workflow.create"]["actor_email"] == tenant_a.editor.email
    assert by_action["workflow.create"]["token_id"]        # an API token acted
    assert by_action["run.cancel"]["target_id"] == slow
    assert {e["target_id"] for e in events if e["action"] == "run.start"} == {run_id, slow}

    # filters: action (exact or prefix), target, actor (id or email), time
    async def q(**params):
        r = await client.get("/api/audit", params={"since": since, **params}, headers=owner)
        assert r.status_code == 200, r.text
        return [e["action"] for e in r.json()]

    assert await q(action="run.start") == ["run.start", "run.start"]
    assert set(await q(action="workflow.")) == {"workflow.create", "workflow.update", "workflow.publish",
                                               "workflow.restore", "workflow.delete"}
    assert len(await q(target_type="workflow", target_id=wid)) == 5
    assert await q(actor=tenant_a.owner.user_id) == ["workflow.restore"]
    assert await q(actor=tenant_a.owner.email) == ["workflow.restore"]
    later = (datetime.now(timezone.utc) + timedelta(minutes=1)).isoformat()
    assert await q(since=later) == []
    assert len(await q(limit=2)) == 2

    # owners only; another tenant's owner sees none of it
    assert_problem(await client.get("/api/audit", headers=ed), 403)
    assert_problem(await client.get("/api/audit", headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.get("/api/audit"), 401)
    other = (await client.get("/api/audit", params={"target_id": wid}, headers=tenant_b.owner.headers)).json()
    assert other == []


async def test_a_refused_action_leaves_no_audit_row(client, tenant_a):
    ed, owner = tenant_a.editor.headers, tenant_a.owner.headers
    bad = graph([node("start", "trigger.manual"), node("x", "data.set", values="not an object")], [edge("start", "x")])
    wid = (await client.post("/api/workflows", json={"name": "Refused", "graph": bad}, headers=ed)).json()["id"]
    assert_problem(await client.post(f"/api/workflows/{wid}/publish", headers=ed), 422)
    r = await client.get("/api/audit", params={"target_id": wid}, headers=owner)
    assert [e["action"] for e in r.json()] == ["workflow.create"]
