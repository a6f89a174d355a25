"""Webhook replay: a signed delivery is accepted once; the same delivery sent again within the
timestamp tolerance is 409 problem+json and starts no run, whether the deliveries are remembered
in Redis or in the database, and whichever app process the repeat reaches."""

from __future__ import annotations

import json
import secrets

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.settings import Settings
from tests.backend.triggers.conftest import assert_problem, published_workflow, runs_of
from tests.backend.triggers.test_webhooks import make_hook, signed, webhook_graph

STORES = {"database": "", "redis": "redis://127.0.0.1:6379/0"}


@pytest.fixture(params=sorted(STORES))
def settings(request, db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False, webhook_max_body_bytes=4096, redis_url=STORES[request.param])


async def test_the_same_signed_delivery_twice_is_409_and_starts_one_run(client, tenant_a):
    """A repeat of an accepted signed delivery is refused with 409, and only the first started a run."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, webhook_graph())
    hook = await make_hook(client, h, wf)
    body = json.dumps({"n": secrets.token_hex(4)}).encode()
    headers = signed(hook["secret"], body)
    first = await client.post(f"/hooks/{hook['id']}", content=body, headers=headers)
    assert first.status_code == 202, first.text
    doc = assert_problem(await client.post(f"/hooks/{hook['id']}", content=body, headers=headers), 409)
    assert doc["code"] == "replayed_delivery"
    assert [r["id"] for r in await runs_of(client, h, wf)] == [first.json()["run_id"]]
    # A new delivery (same body, next timestamp) is a different signature and is accepted.
    again = signed(hook["secret"], body, ts=int(headers["X-Maily-Timestamp"]) + 1)
    assert (await client.post(f"/hooks/{hook['id']}", content=body, headers=again)).status_code == 202


async def test_a_delivery_refused_before_its_run_can_be_sent_again(client, tenant_a):
    """A delivery refused by a later check (wrong method) is not remembered, so it is not called a replay."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, webhook_graph(methods=["PUT"]))
    hook = await make_hook(client, h, wf)
    body = b"{}"
    headers = signed(hook["secret"], body)
    assert_problem(await client.post(f"/hooks/{hook['id']}", content=body, headers=headers), 405)
    assert (await client.put(f"/hooks/{hook['id']}", content=body, headers=headers)).status_code == 202


async def test_a_replay_to_another_app_process_is_409(client, settings, tenant_a):
    """Two app instances on one database (and one Redis) share what they have accepted."""
    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, webhook_graph())
    hook = await make_hook(client, h, wf)
    body = json.dumps({"n": secrets.token_hex(4)}).encode()
    headers = signed(hook["secret"], body)
    assert (await client.post(f"/hooks/{hook['id']}", content=body, headers=headers)).status_code == 202
    async with AsyncTestClient(app=create_app(settings)) as other:
        assert_problem(await other.post(f"/hooks/{hook['id']}", content=body, headers=headers), 409)
