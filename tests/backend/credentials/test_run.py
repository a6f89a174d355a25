"""A workflow run resolves its credential inside the node (the app's node services, the in-process
engine): the node gets the secret, the run's record does not; a wrong type fails the node at /credential."""

from __future__ import annotations

import secrets

import pytest

from backend.settings import Settings
from tests.backend.credentials.bearer_node import graph
from tests.backend.runs.test_controllers import wait_for_end

MARKER = "run-marker-" + secrets.token_hex(12)


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False)


async def _run(client, member, type_, data) -> dict:
    h = member.headers
    cid = (await client.post("/api/credentials", json={"name": "tok", "type": type_, "data": data}, headers=h)).json()["id"]
    wf = (await client.post("/api/workflows", json={"name": "uses tok", "graph": graph(cid)}, headers=h)).json()["id"]
    r = await client.post(f"/api/workflows/{wf}/runs", json={"input": {}}, headers=h)
    assert r.status_code == 202, r.text
    run = await wait_for_end(client, h, r.json()["id"])
    events = await client.get(f"/api/runs/{run['id']}/events", headers=h)
    assert MARKER not in str(run) and MARKER not in events.text
    return run


async def test_the_node_resolves_the_secret_and_the_run_record_never_holds_it(client, tenant_a):
    """The node saw the whole token (its length comes out); neither the run nor its events contain it."""
    run = await _run(client, tenant_a.editor, "bearer", {"token": MARKER})
    assert run["status"] == "succeeded", run
    assert {n["node_id"]: n["output"] for n in run["nodes"]}["call"] == {"output": {"length": len(MARKER)}}


async def test_a_credential_of_another_type_fails_the_node_at_credential(client, tenant_a):
    """A basic credential in a bearer field: the node fails with a config error pointing at /credential."""
    run = await _run(client, tenant_a.editor, "basic", {"username": "ada", "password": MARKER})
    assert run["status"] == "failed"
    call = {n["node_id"]: n for n in run["nodes"]}["call"]
    assert call["status"] == "failed" and "basic" in str(call["error"]) and "/credential" in str(call["error"])
