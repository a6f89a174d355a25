"""Three `maily serve` processes on one PostgreSQL database and Redis, as deploy/k8s runs
replicas: each with its own data dir (a pod's disk), no sticky routing. PostgreSQL and Redis
are required: the fixture fails with what to start when either does not answer.

The processes, their database and the tenant are shared by the tests of this folder (starting
three apps costs tens of seconds on a busy 2-core machine); each test makes its own workflows,
and a replica a test killed is started again before the next test."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import httpx
import pytest

from backend.seed import welcome_graph
from tests.faults.app_process import AppProcess
from tests.production import cluster

REPLICAS = 3


async def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "the condition") -> None:
    """Wait until `check()` is true (polled; the deadline only bounds a failing test)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not hold within {timeout} s"
        await asyncio.sleep(0.02)


class Replicas:
    def __init__(self, apps: list[AppProcess]) -> None:
        self.apps = apps

    def ws(self, i: int, workflow_id: str, token: str) -> str:
        return f"ws://127.0.0.1:{self.apps[i].port}/api/collab/{workflow_id}?token={token}"

    async def wait_up(self, *indices: int) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            await asyncio.gather(*(self.apps[i].wait_health(http, want="off") for i in indices or range(len(self.apps))))

    async def restart(self, i: int) -> None:
        self.apps[i].start()
        await self.wait_up(i)


@pytest.fixture(scope="package")
async def replica_db() -> AsyncIterator[str]:
    async with cluster.scratch_database() as url:
        yield url


@pytest.fixture(scope="package")
async def tenant(replica_db):
    return await cluster.tenant_in(replica_db, "replicas")


@pytest.fixture(scope="package")
async def replica_group(replica_db, tenant, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Replicas]:
    root = tmp_path_factory.mktemp("replicas")
    apps = []
    for i in range(REPLICAS):
        (root / f"r{i}").mkdir()
        apps.append(AppProcess(root / f"r{i}", replica_db, MAILY_PREFECT="never", MAILY_REDIS_URL=cluster.REDIS_URL))
    for app in apps:
        app.start()
    group = Replicas(apps)
    try:
        await group.wait_up()
        yield group
    finally:
        for app in apps:
            app.stop()


@pytest.fixture
async def replicas(replica_group: Replicas) -> Replicas:
    """The three replicas, every one of them up (one a previous test killed is started again)."""
    dead = [i for i, app in enumerate(replica_group.apps) if app.proc is None or app.proc.poll() is not None]
    for i in dead:
        replica_group.apps[i].start()
    if dead:
        await replica_group.wait_up(*dead)
    return replica_group


@pytest.fixture
def new_workflow(replicas, tenant):
    """Makes a workflow (through replica 0's REST API); returns its id."""
    async def make(name: str = "shared") -> str:
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.post(f"{replicas.apps[0].url}/api/workflows", json={"name": name, "graph": welcome_graph()},
                                headers=tenant.editor.headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]
    return make
