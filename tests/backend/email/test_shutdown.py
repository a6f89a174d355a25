"""App shutdown closes the mailer's database engine: after a run that sent mail, stopping the
app leaves no pooled connection behind (on PostgreSQL: no server session left either)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.settings import Settings
from tests.flows.fakes import edge, graph, node

SEND = graph([node("start", "trigger.manual"),
              node("compose", "email.compose", subject="Hi", html="<p>Hello</p>"),
              node("send", "email.send", sender="shop@maily.example", to="ann@example.com")],
             [edge("start", "compose"), edge("compose", "send", target_port="message")], name="shutdown-send")


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False)


async def _sessions(db) -> int:
    """Server sessions on this database other than the one asking (PostgreSQL)."""
    async with db.engine.connect() as c:
        return (await c.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND pid <> pg_backend_pid()"))).scalar_one()


async def test_shutdown_disposes_the_mailer_engine(settings, db, tenant_a):
    """The mail went through the mailer's own engine; once the app stops, that engine holds nothing."""
    before = await _sessions(db)
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        h = tenant_a.editor.headers
        r = await client.post("/api/runs", json={"graph": SEND, "input": {}}, headers=h)
        assert r.status_code == 202, r.text
        for _ in range(400):
            run = (await client.get(f"/api/runs/{r.json()['id']}", headers=h)).json()
            if run["status"] in ("succeeded", "failed", "cancelled"):
                break
            await asyncio.sleep(0.05)
        assert run["status"] == "succeeded", run
        assert (await client.get("/api/email/outbox", headers=h)).json()[0]["recipient"] == "ann@example.com"
        lazy = app.state.mailer.store.db
        engine = lazy.db.engine
        assert engine.pool.checkedin() >= 1          # the sent-log and outbox rows went through it
    assert engine.pool.checkedin() == 0 and engine.pool.checkedout() == 0
    # the server sees every connection of the app gone (backends exit asynchronously)
    for _ in range(100):
        if await _sessions(db) <= before:
            break
        await asyncio.sleep(0.05)
    assert await _sessions(db) <= before
    assert lazy._db is None                          # a later use would open a fresh engine
