"""Start-up recovery takes only the runs of app processes that are gone (backend/runs/instances.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from backend.db.models import Run, RunEvent, utcnow
from backend.runs.models import AppInstance
from backend.seed import welcome_graph
from backend.runs import instances
from backend.runs.instances import Instance, is_gone


def _row(host: str, pid: int, beat_age_s: float = 0.0) -> AppInstance:
    return AppInstance(id="x" * 32, host=host, pid=pid, heartbeat_at=utcnow() - timedelta(seconds=beat_age_s))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_an_owner_is_gone_when_its_process_is():
    """No owner, a missing row, a dead pid on this host, this pid under a stale id, or a stale
    heartbeat elsewhere: gone. A live pid here, or a fresh heartbeat elsewhere: alive."""
    here, now = socket.gethostname(), utcnow()
    assert is_gone(None, None, now)
    assert is_gone(None, "a" * 32, now)
    assert is_gone(_row(here, _dead_pid()), "a" * 32, now)
    assert is_gone(_row(here, os.getpid()), "a" * 32, now)          # a restarted container, same pid
    assert not is_gone(_row(here, os.getppid()), "a" * 32, now)
    assert not is_gone(_row("elsewhere", 1, beat_age_s=1), "a" * 32, now)
    assert is_gone(_row("elsewhere", 1, beat_age_s=instances.STALE_S + 5), "a" * 32, now)


async def test_an_instance_registers_marks_its_runs_and_leaves_at_stop(db):
    """A started instance has its row and is current (runs queued here carry its id); at a clean
    stop its row goes, so its runs count as gone."""
    instance = Instance(db)
    await instance.start()
    try:
        assert instances.current() == instance.id
        async with db.sessionmaker() as s:
            row = await s.get(AppInstance, instance.id)
            assert row.pid == os.getpid()
            assert instance.id not in await instances.gone_owners(s, {instance.id})
    finally:
        await instance.stop()
    async with db.sessionmaker() as s:
        assert await s.get(AppInstance, instance.id) is None
        assert await instances.gone_owners(s, {instance.id}) == {instance.id}


async def test_a_second_app_does_not_resume_the_runs_a_live_one_is_running(client, db, tenant_a, settings):
    """A run queued by a live app is left alone by another app starting on the same database;
    the same run, once its owner is gone, is resumed."""
    from litestar.testing import AsyncTestClient

    from backend.app import create_app

    graph = welcome_graph()
    wf = (await client.post("/api/workflows", json={"name": "wf", "graph": graph}, headers=tenant_a.editor.headers)).json()
    assert instances.current() is not None
    async with db.sessionmaker() as s:
        s.add(Run(id="r" * 32, tenant_id=tenant_a.id, workflow_id=wf["id"], status="running", graph=graph,
                  owner_instance=instances.current(), root_run_id="r" * 32))
        await s.commit()
    async with AsyncTestClient(app=create_app(settings)) as other:
        assert (await other.get("/api/health")).status_code in (200, 503)
    async with db.sessionmaker() as s:
        assert (await s.get(Run, "r" * 32)).status == "running"
        assert not list(await s.scalars(select(RunEvent).where(RunEvent.run_id == "r" * 32)))
        run = await s.get(Run, "r" * 32)
        run.owner_instance = "gone" + "0" * 28   # its owner goes away
        await s.commit()
    async with AsyncTestClient(app=create_app(settings)):
        pass
    async with db.sessionmaker() as s:
        kinds = [e.kind for e in await s.scalars(select(RunEvent).where(RunEvent.run_id == "r" * 32))]
        assert "run.resumed" in kinds
