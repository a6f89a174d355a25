"""Trigger tests: in-process engine (no Prefect), a webhook body cap small enough to test."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from backend.settings import Settings
from tests.backend.conftest import assert_problem
from tests.live_server import serving
from tests.flows.fakes import edge, graph, node


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False, webhook_max_body_bytes=4096, scheduler_interval_s=0.2)


@pytest.fixture
async def client(app):
    """The app served by uvicorn in this event loop (not a test portal's own loop), so tests
    can also drive app.state (schedulers, the chain listener) directly."""
    async with serving(app) as address, httpx.AsyncClient(base_url=f"http://{address}", timeout=30) as c:
        yield c


def simple_graph(trigger: str = "trigger.manual", name: str = "wf", **trigger_config: Any) -> dict[str, Any]:
    return graph([node("start", trigger, **trigger_config),
                  node("echo", "data.set", values={"seen": "{{ trigger }}"})],
                 [edge("start", "echo")], name=name)


async def published_workflow(client, headers, doc: dict[str, Any]) -> str:
    r = await client.post("/api/workflows", json={"name": doc.get("name", "wf"), "graph": doc}, headers=headers)
    assert r.status_code == 201, r.text
    wf = r.json()["id"]
    r = await client.post(f"/api/workflows/{wf}/publish", json={}, headers=headers)
    assert r.status_code == 201, r.text
    return wf


async def runs_of(client, headers, wf: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/runs?workflow_id={wf}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def wait_for_runs(client, headers, wf: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The workflow's runs once there are `count` of them and all have ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        runs = await runs_of(client, headers, wf)
        if len(runs) >= count and all(r["status"] in ("succeeded", "failed", "cancelled") for r in runs):
            return runs
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow {wf} did not reach {count} ended run(s) within {timeout} s: {runs}")


__all__ = ["assert_problem", "simple_graph", "published_workflow", "runs_of", "wait_for_runs"]
