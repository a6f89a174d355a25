"""Run control in production mode: pause, resume, approvals, the resumer and retries all
execute on `maily worker` processes, reusing what the run recorded, each side effect once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from backend.db.models import Run
from backend.db.session import Database
from tests.flows.fakes import edge, graph, node
from tests.production.conftest import wait_status
from tests.production.test_durability import side_effects, start_side_effects


def started_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e["kind"] == "run.started"]


async def events_of(client, h, run_id: str) -> list[dict]:
    return (await client.get(f"/api/runs/{run_id}/events", headers=h)).json()


class TestPauseAndResumeOnWorkers:
    async def test_pause_stops_the_run_on_its_worker_and_resume_finishes_it_without_repeating_side_effects(
            self, prod_app, workers, tenant, counter):
        """POST /pause in production pauses the run where it runs; /resume continues it on a
        worker, the side effect before the pause is not repeated, seq numbers stay unique."""
        workers(1)
        h = tenant.editor.headers
        run_id = await start_side_effects(prod_app, h, counter, 3)
        r = await prod_app.post(f"/api/runs/{run_id}/pause", headers=h)
        assert r.status_code == 202 and r.json()["status"] == "paused", r.text
        run = (await prod_app.get(f"/api/runs/{run_id}", headers=h)).json()
        nodes = {n["node_id"]: n["status"] for n in run["nodes"]}
        assert nodes["one"] == "succeeded" and nodes["wait"] == "cancelled" and "two" not in nodes
        assert (await prod_app.post(f"/api/runs/{run_id}/pause", headers=h)).status_code == 409
        r = await prod_app.post(f"/api/runs/{run_id}/resume", headers=h)
        assert r.status_code == 202, r.text
        run = await wait_status(prod_app, h, run_id, timeout=30)
        assert run["status"] == "succeeded", run
        assert counter.hits["/one"] == 1 and counter.hits["/two"] == 1, counter.hits
        events = await events_of(prod_app, h, run_id)
        seqs = [e["seq"] for e in events]
        assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs)
        first, second = started_events(events)
        assert second["data"]["resumed"] is True and second["data"]["worker"]      # the pass ran on a worker
        assert [e["node_id"] for e in events if e["kind"] == "node.reused"] == ["start", "one"]


class TestSuspendedRunsResumeOnWorkers:
    async def test_the_resumer_hands_a_due_run_to_a_worker(self, prod_app, prod_db, workers, tenant, counter):
        """A long util.delay suspends the run on its worker; when it is due, the app's resumer
        dispatches the next pass, which runs on a worker and does not repeat the first call."""
        workers(1)
        h = tenant.editor.headers
        r = await prod_app.post("/api/runs", json={"graph": side_effects(counter.url, 3600), "input": {}}, headers=h)
        run_id = r.json()["id"]
        run = await wait_status(prod_app, h, run_id, statuses=("waiting", "failed"), timeout=30)
        assert run["status"] == "waiting" and run["waiting_on"][0]["node_id"] == "wait", run
        past = datetime.now(timezone.utc) - timedelta(seconds=1)
        db = Database(prod_db)
        try:
            async with db.sessionmaker() as s:
                row = await s.get(Run, run_id)
                row.resume_at = past
                row.waiting_on = [{**w, "resume_at": past.isoformat()} for w in row.waiting_on]
                await s.commit()
        finally:
            await db.dispose()
        run = await wait_status(prod_app, h, run_id, timeout=30)
        assert run["status"] == "succeeded", run
        assert counter.hits["/one"] == 1 and counter.hits["/two"] == 1, counter.hits
        first, second = started_events(await events_of(prod_app, h, run_id))
        assert second["data"]["resumed"] is True and second["data"]["worker"]

    async def test_approve_continues_the_run_on_a_worker_with_the_decision(self, prod_app, workers, tenant, counter):
        """approval.wait suspends on the worker; the decision is stored with the run and the
        worker that takes the next pass follows the approved branch."""
        workers(1)
        h = tenant.editor.headers
        doc = graph([node("start", "trigger.manual"),
                     node("one", "http.request", method="POST", url=f"{counter.url}/one", body={}),
                     node("ok", "approval.wait", title="Go?"),
                     node("yes", "http.request", method="POST", url=f"{counter.url}/yes", body={}),
                     node("no", "http.request", method="POST", url=f"{counter.url}/no", body={})],
                    [edge("start", "one"), edge("one", "ok"), edge("ok", "yes", "approved"), edge("ok", "no", "rejected")],
                    name="prod-approval")
        r = await prod_app.post("/api/runs", json={"graph": doc, "input": {}}, headers=h)
        run_id = r.json()["id"]
        await wait_status(prod_app, h, run_id, statuses=("waiting", "failed"), timeout=30)
        assert (await prod_app.post(f"/api/runs/{run_id}/approve", json={}, headers=tenant.viewer.headers)).status_code == 403
        r = await prod_app.post(f"/api/runs/{run_id}/approve", json={}, headers=h)
        assert r.status_code == 202, r.text
        run = await wait_status(prod_app, h, run_id, timeout=30)
        assert run["status"] == "succeeded", run
        assert dict(counter.hits) == {"/one": 1, "/yes": 1}
        ok = next(n for n in run["nodes"] if n["node_id"] == "ok")
        assert ok["output"]["approved"]["decided_by"]["user_id"] == tenant.editor.user_id
        assert started_events(await events_of(prod_app, h, run_id))[1]["data"]["worker"]


class TestRetryOnWorkers:
    async def test_a_retry_reuses_what_the_cancelled_run_did(self, prod_app, workers, tenant, counter):
        """A retry of a cancelled run executes on a worker reusing the nodes that succeeded."""
        workers(1)
        h = tenant.editor.headers
        run_id = await start_side_effects(prod_app, h, counter, 3)
        assert (await prod_app.post(f"/api/runs/{run_id}/cancel", headers=h)).status_code == 202
        await wait_status(prod_app, h, run_id, statuses=("cancelled",), timeout=15)
        r = await prod_app.post(f"/api/runs/{run_id}/retry", headers=h)
        assert r.status_code == 202, r.text
        run = await wait_status(prod_app, h, r.json()["id"], timeout=30)
        assert run["status"] == "succeeded", run
        assert counter.hits["/one"] == 1 and counter.hits["/two"] == 1, counter.hits


class TestCancelFromAnyReplica:
    async def test_a_replica_that_did_not_start_the_run_cancels_it_on_its_worker(self, prod_app, prod_db, workers,
                                                                                 tenant, counter, tmp_path):
        """Cancel sent to another app replica reaches the worker: the run ends cancelled and stays
        so (the worker does not go on and overwrite it), and the call after the wait never happens."""
        from litestar.testing import AsyncTestClient

        from backend.app import create_app
        from backend.settings import Settings
        from tests.production import cluster

        workers(1)
        h = tenant.editor.headers
        run_id = await start_side_effects(prod_app, h, counter, 3)
        other = create_app(Settings(database_url=prod_db, data_dir=tmp_path / "replica2", secret_key="test-secret-key",
                                    mode="production", redis_url=cluster.REDIS_URL, prefect="never",
                                    prefect_at_start=False, scheduler_enabled=False))
        async with AsyncTestClient(app=other) as replica:
            assert (await replica.post(f"/api/runs/{run_id}/cancel", headers=tenant.viewer.headers)).status_code == 403
            r = await replica.post(f"/api/runs/{run_id}/cancel", headers=h)
            assert r.status_code == 202 and r.json()["status"] == "cancelled", r.text
        await asyncio.sleep(4)                                   # past the 3 s wait the worker would have finished
        run = (await prod_app.get(f"/api/runs/{run_id}", headers=h)).json()
        assert run["status"] == "cancelled", run
        assert counter.hits["/one"] == 1 and counter.hits["/two"] == 0, counter.hits
        kinds = [e["kind"] for e in await events_of(prod_app, h, run_id)]
        assert kinds[-1] == "run.cancelled" and "run.succeeded" not in kinds
