"""Fixtures of the production-mode tests: real PostgreSQL, Redis, Prefect server and worker
processes (tests/production/cluster.py). Missing PostgreSQL or Redis FAILS the tests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from tests.production import cluster


@pytest.fixture(scope="session")
async def prod_db(prefect_api) -> AsyncIterator[str]:
    async with cluster.scratch_database() as url:
        yield url


@pytest.fixture(scope="session")
async def prefect_url(prefect_api) -> str:
    return await prefect_api.ready()


@pytest.fixture
def workers(prod_db, prefect_url, tmp_path: Path):
    started: list[cluster.Worker] = []

    def start(n: int = 1, **env: str) -> list[cluster.Worker]:
        new = [cluster.Worker(cluster.worker_env(prod_db, tmp_path, prefect_url, **{
                   "MAILY_WORKER_LEASE_S": "2", "MAILY_WORKER_SWEEP_S": "0.5", **env}), tmp_path / f"worker{len(started) + i}.log")
               for i in range(n)]
        started.extend(new)
        for w in new:
            w.wait_ready()
        return new

    yield start
    for w in started:
        w.stop()


@pytest.fixture
async def prod_app(prod_db, prefect_url, tmp_path: Path):
    from backend.app import create_app
    from backend.settings import Settings

    settings = Settings(database_url=prod_db, data_dir=tmp_path, secret_key="test-secret-key", mode="production",
                        redis_url=cluster.REDIS_URL, prefect="never", prefect_at_start=False,
                        scheduler_enabled=False)
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture
async def tenant(prod_db):
    return await cluster.tenant_in(prod_db, "prod")


@pytest.fixture
def counter():
    server = cluster.CountingServer()
    yield server
    server.close()


async def wait_status(client, headers, run_id: str, statuses=("succeeded", "failed", "cancelled"),
                      timeout: float = 30) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = None
    while loop.time() < deadline:
        r = await client.get(f"/api/runs/{run_id}", headers=headers)
        assert r.status_code == 200, r.text
        last = r.json()
        if last["status"] in statuses:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not reach {statuses} within {timeout} s: {last}")
