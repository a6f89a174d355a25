"""Three `maily serve` processes on one PostgreSQL database and Redis, as deploy/k8s runs
replicas: each with its own data dir (a pod's disk), no sticky routing. PostgreSQL and Redis
are required: the fixture fails with what to start when either does not answer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import httpx
import pytest

from backend.seed import welcome_graph
from tests.faults.app_process import AppProcess
from tests.faults.conftest import fault_db, fault_tenant  # noqa: F401 - fixtures
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


@pytest.fixture
def tenant(fault_tenant):
    return fault_tenant


@pytest.fixture
async def replicas(fault_db, tenant, tmp_path: Path) -> AsyncIterator[Replicas]:
    apps = []
    for i in range(REPLICAS):
        (tmp_path / f"r{i}").mkdir()
        apps.append(AppProcess(tmp_path / f"r{i}", fault_db, MAILY_PREFECT="never", MAILY_REDIS_URL=cluster.REDIS_URL))
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
def new_workflow(replicas, tenant):
    """Makes a workflow (through replica 0's REST API); returns its id."""
    async def make(name: str = "shared") -> str:
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.post(f"{replicas.apps[0].url}/api/workflows", json={"name": name, "graph": welcome_graph()},
                                headers=tenant.editor.headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]
    return make
