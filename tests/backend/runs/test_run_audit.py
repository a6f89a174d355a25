"""Every run-control action lands in the audit trail with who did it and to which run."""

from __future__ import annotations

from typing import Any

from tests.backend.runs.test_run_control import APPROVAL, app, executed, start, wait_node, wait_status  # noqa: F401
from tests.flows.fakes import edge, graph, node

HANG = graph([node("start", "trigger.manual"), node("a", "test.record"),
              node("slow", "test.flaky", fail_times=1, kind="hang"), node("b", "test.record")],
             [edge("start", "a"), edge("a", "slow"), edge("slow", "b")])


async def audit_of(client, owner_headers, run_id: str) -> list[dict[str, Any]]:
    r = await client.get("/api/audit", params={"target_type": "run", "target_id": run_id}, headers=owner_headers)
    assert r.status_code == 200, r.text
    return r.json()


def only(events: list[dict[str, Any]], action: str) -> dict[str, Any]:
    found = [e for e in events if e["action"] == action]
    assert len(found) == 1, (action, [e["action"] for e in events])
    return found[0]


class TestRunControlIsAudited:
    async def test_pause_resume_and_cancel_name_the_editor_who_acted(self, client, tenant_a):
        """Pausing, resuming and cancelling a run each add one row naming the editor and the run."""
        h, owner = tenant_a.editor.headers, tenant_a.owner.headers
        run_id = await start(client, h, HANG)
        await wait_node(client, h, run_id, "slow")
        assert (await client.post(f"/api/runs/{run_id}/pause", headers=h)).status_code == 202
        assert (await client.post(f"/api/runs/{run_id}/resume", headers=h)).status_code == 202
        await wait_status(client, h, run_id, "succeeded")          # the interrupted node succeeds its 2nd time
        other = await start(client, h, HANG)
        await wait_status(client, h, other, "running")
        assert (await client.post(f"/api/runs/{other}/cancel", headers=owner)).status_code == 202
        events = await audit_of(client, owner, run_id)
        pause, resume = only(events, "run.pause"), only(events, "run.resume")
        assert pause["actor_id"] == resume["actor_id"] == tenant_a.editor.user_id
        assert pause["actor_email"] == tenant_a.editor.email and pause["details"]["status_before"] == "running"
        assert [e["action"] for e in events] == ["run.resume", "run.pause", "run.start"]     # newest first
        cancel = only(await audit_of(client, owner, other), "run.cancel")
        assert cancel["actor_id"] == tenant_a.owner.user_id and cancel["details"]["status_before"] == "running"

    async def test_a_refused_action_writes_nothing(self, client, tenant_a):
        """A resume answered 409 (the run is not paused) leaves no audit row."""
        h = tenant_a.editor.headers
        run_id = await start(client, h, HANG)
        await wait_status(client, h, run_id, "running")
        assert (await client.post(f"/api/runs/{run_id}/resume", headers=h)).status_code == 409
        await client.post(f"/api/runs/{run_id}/cancel", headers=h)
        actions = [e["action"] for e in await audit_of(client, tenant_a.owner.headers, run_id)]
        assert "run.resume" not in actions and "run.cancel" in actions

    async def test_approve_and_reject_record_the_node_and_the_decision(self, client, tenant_a):
        """approve / reject rows name the approval node, the decision and the person who decided."""
        h, owner = tenant_a.editor.headers, tenant_a.owner.headers
        yes, no = await start(client, h, APPROVAL), await start(client, h, APPROVAL)
        await wait_status(client, h, yes, "waiting")
        await wait_status(client, h, no, "waiting")
        assert (await client.post(f"/api/runs/{yes}/approve", json={"note": "go"}, headers=h)).status_code == 202
        assert (await client.post(f"/api/runs/{no}/reject", json={"note": "no"}, headers=owner)).status_code == 202
        approve = only(await audit_of(client, owner, yes), "run.approve")
        assert approve["details"] == {"node_id": "ok", "decision": "approved"}
        assert approve["actor_id"] == tenant_a.editor.user_id
        reject = only(await audit_of(client, owner, no), "run.reject")
        assert reject["details"]["decision"] == "rejected" and reject["actor_id"] == tenant_a.owner.user_id
        await wait_status(client, h, yes, "succeeded")
        await wait_status(client, h, no, "succeeded")

    async def test_retry_and_rerun_record_the_new_run_and_what_it_came_from(self, client, tenant_a):
        """retry and rerun rows target the new run and name the old one (and the node re-run from)."""
        h, owner = tenant_a.editor.headers, tenant_a.owner.headers
        doc = graph([node("start", "trigger.manual"), node("a", "test.record"),
                     node("f", "test.fail_once", key=f"audit-{tenant_a.id}"), node("b", "test.record")],
                    [edge("start", "a"), edge("a", "f"), edge("f", "b")])
        first = await start(client, h, doc)
        await wait_status(client, h, first, "failed")
        r = await client.post(f"/api/runs/{first}/retry", headers=h)
        assert r.status_code == 202, r.text
        retried = r.json()["id"]
        row = only(await audit_of(client, owner, retried), "run.retry")
        assert row["details"]["retry_of"] == first and row["actor_id"] == tenant_a.editor.user_id
        await wait_status(client, h, retried, "succeeded")
        r = await client.post(f"/api/runs/{retried}/rerun", json={"from_node": "b"}, headers=owner)
        assert r.status_code == 202, r.text
        row = only(await audit_of(client, owner, r.json()["id"]), "run.rerun")
        assert row["details"]["from_node"] == "b" and row["details"]["retry_of"] == retried
        assert row["actor_email"] == tenant_a.owner.email
        await wait_status(client, h, r.json()["id"], "succeeded")

    async def test_the_trail_is_for_owners_of_the_tenant(self, client, tenant_a, tenant_b):
        """Editors may not read it; another tenant's owner sees none of these rows."""
        h = tenant_a.editor.headers
        run_id = await start(client, h, APPROVAL)
        await wait_status(client, h, run_id, "waiting")
        await client.post(f"/api/runs/{run_id}/approve", json={"note": "go"}, headers=h)
        assert (await client.get("/api/audit", headers=h)).status_code == 403
        assert await audit_of(client, tenant_b.owner.headers, run_id) == []
        await wait_status(client, h, run_id, "succeeded")
