"""Run retention on the real PostgreSQL: ended runs past a workspace's age or per-workflow cap go
with their node runs, events and outbox rows, in batches; runs not ended, certified or reused by
an unfinished retry stay; a dry run only counts; the policy is the owners' to change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from backend.db.models import NodeRun, Run, RunEvent
from backend.db.session import Database
from backend.email.models import EmailOutboxMessage
from backend.retention.services import prune_tenant
from tests.backend.conftest import TenantFixture, assert_problem
from tests.backend.retention.support import make_run, make_workflow


async def _existing(db: Database, ids: list[str]) -> set[str]:
    async with db.sessionmaker() as s:
        return set(await s.scalars(select(Run.id).where(Run.id.in_(ids))))


async def _children(db: Database, run_id: str) -> tuple[int, int, int]:
    async with db.sessionmaker() as s:
        nodes = await s.scalar(select(func.count()).select_from(NodeRun).where(NodeRun.run_id == run_id))
        events = await s.scalar(select(func.count()).select_from(RunEvent).where(RunEvent.run_id == run_id))
        outbox = await s.scalar(select(func.count()).select_from(EmailOutboxMessage)
                                .where(EmailOutboxMessage.run_id == run_id))
        return nodes, events, outbox


async def test_old_ended_runs_go_and_what_must_stay_stays(db: Database, tenant_a: TenantFixture,
                                                          tenant_b: TenantFixture) -> None:
    """Past 30 days an ended run goes with its node runs, events and outbox message; a recent one,
    a waiting or paused one, a certified one, one an unfinished retry reuses and another
    workspace's run stay."""
    t = tenant_a.id
    old = await make_run(db, t, days_old=40, outbox=True)
    old_failed = await make_run(db, t, days_old=45, status="failed")
    recent = await make_run(db, t, days_old=29)
    waiting = await make_run(db, t, days_old=90, status="waiting")
    paused = await make_run(db, t, days_old=90, status="paused")
    certified = await make_run(db, t, days_old=90, certified=True)
    reused = await make_run(db, t, days_old=90, status="failed")
    await make_run(db, t, days_old=1, status="paused", retry_of=reused)
    elsewhere = await make_run(db, tenant_b.id, days_old=90)

    report = await prune_tenant(db, t)

    everything = [old, old_failed, recent, waiting, paused, certified, reused, elsewhere]
    assert await _existing(db, everything) == {recent, waiting, paused, certified, reused, elsewhere}
    assert await _children(db, old) == (0, 0, 0)
    assert await _children(db, certified) == (2, 3, 0)
    assert (report.runs, report.node_runs, report.events, report.outbox) == (2, 4, 6, 1)
    assert set(report.run_ids) == {old, old_failed}


async def test_each_workflow_keeps_at_most_its_newest_runs(client, db: Database, tenant_a: TenantFixture) -> None:
    """With at most 2 runs per workflow, the older runs of a busy workflow go and a quiet one keeps its run."""
    h = tenant_a.owner.headers
    r = await client.put("/api/retention", json={"keep_days": 30, "max_per_workflow": 2}, headers=h)
    assert r.status_code == 200, r.text
    busy, quiet = await make_workflow(db, tenant_a.id), await make_workflow(db, tenant_a.id)
    runs = [await make_run(db, tenant_a.id, days_old=d, workflow_id=busy) for d in (4, 3, 2, 1)]
    lone = await make_run(db, tenant_a.id, days_old=5, workflow_id=quiet)

    report = await prune_tenant(db, tenant_a.id)

    assert report.runs == 2
    assert await _existing(db, [*runs, lone]) == {runs[2], runs[3], lone}


async def test_a_dry_run_counts_and_deletes_nothing(client, db: Database, tenant_a: TenantFixture) -> None:
    """The dry run through the API reports the runs past the policy and every one of them is still there."""
    ids = [await make_run(db, tenant_a.id, days_old=60, outbox=True) for _ in range(3)]
    r = await client.post("/api/retention/prune?dry_run=true", headers=tenant_a.owner.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True and (body["runs"], body["node_runs"], body["events"], body["outbox"]) == (3, 6, 9, 3)
    assert sorted(body["run_ids"]) == sorted(ids)
    assert await _existing(db, ids) == set(ids)


async def test_pruning_goes_through_every_batch(db: Database, tenant_a: TenantFixture) -> None:
    """Five old runs pruned two at a time all go."""
    ids = [await make_run(db, tenant_a.id, days_old=31 + i) for i in range(5)]
    report = await prune_tenant(db, tenant_a.id, batch=2)
    assert report.runs == 5 and await _existing(db, ids) == set()


async def test_only_owners_change_the_policy(client, tenant_a: TenantFixture) -> None:
    """Everyone reads the policy (30 days by default); editors and viewers may not change it or prune,
    and a policy out of range is a 422 naming the field."""
    got = await client.get("/api/retention", headers=tenant_a.viewer.headers)
    assert got.status_code == 200 and got.json()["keep_days"] == 30, got.text
    for who in (tenant_a.editor, tenant_a.viewer):
        assert_problem(await client.put("/api/retention", json={"keep_days": 5, "max_per_workflow": None},
                                        headers=who.headers), 403)
        assert_problem(await client.post("/api/retention/prune", headers=who.headers), 403)
    doc = assert_problem(await client.put("/api/retention", json={"keep_days": 0, "max_per_workflow": None},
                                          headers=tenant_a.owner.headers), 422)
    assert "keep_days" in str(doc)
    r = await client.put("/api/retention", json={"keep_days": 7, "max_per_workflow": None}, headers=tenant_a.owner.headers)
    assert r.json()["keep_days"] == 7 and r.json()["max_per_workflow"] is None
    assert (await client.get("/api/retention", headers=tenant_a.editor.headers)).json()["keep_days"] == 7


def _maily(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAILY_DATABASE_URL": db_url, "MAILY_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=Path(__file__).resolve().parents[3])


async def test_the_cli_dry_run_says_what_would_go_and_the_real_run_prunes_it(db: Database, db_url: str,
                                                                             tenant_a: TenantFixture, tmp_path) -> None:
    """`maily runs prune --dry-run` names the count and deletes nothing; without --dry-run the run goes."""
    old = await make_run(db, tenant_a.id, days_old=50)
    kept = await make_run(db, tenant_a.id, days_old=2)
    dry = _maily(db_url, tmp_path, "runs", "prune", "--dry-run", "--workspace", tenant_a.slug)
    assert dry.returncode == 0, dry.stderr
    assert f"{tenant_a.slug}: would prune 1 run(s), 2 node run(s), 3 event(s)" in dry.stdout
    assert await _existing(db, [old, kept]) == {old, kept}
    real = _maily(db_url, tmp_path, "runs", "prune", "--workspace", tenant_a.slug)
    assert real.returncode == 0, real.stderr
    assert f"{tenant_a.slug}: pruned 1 run(s)" in real.stdout
    assert await _existing(db, [old, kept]) == {kept}
    assert _maily(db_url, tmp_path, "runs", "prune", "--workspace", "no-such-workspace").returncode == 1
