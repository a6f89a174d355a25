"""The run explorer through the API: runs found by a word in their input, a node's output or
their error, filtered by trigger and time, never another workspace's; the trigram indexes match
the search expressions; a run replayed with the same input; two runs compared node by node."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from backend.db.models import NodeRun, Run
from backend.db.session import Database
from backend.runs.explorer import NODE_TEXT, RUN_TEXT
from tests.backend.conftest import assert_problem
from tests.backend.retention.support import make_run
from tests.backend.runs.test_controllers import create_workflow, wait_for_end


async def _ids(client, headers, query: str) -> list[str]:
    r = await client.get(f"/api/runs?{query}", headers=headers)
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()]


async def _run(client, headers, wf: str, payload: dict) -> dict:
    r = await client.post(f"/api/workflows/{wf}/runs", json={"input": payload}, headers=headers)
    assert r.status_code == 202, r.text
    return await wait_for_end(client, headers, r.json()["id"])


async def test_search_finds_a_run_by_a_word_in_its_input_output_or_error(client, db: Database, tenant_a, tenant_b):
    """A word that only a node's output holds, one in the input and one in a failed run's error each
    find their run, case-insensitively; another workspace's run with the same word is never listed."""
    h = tenant_a.editor.headers
    word = f"Zebra{secrets.token_hex(3)}"
    wf = await create_workflow(client, h)
    found = await _run(client, h, wf, {"name": word, "vip": True})     # hello's output: "Hello Zebra..."
    other = await _run(client, h, wf, {"name": "Ada", "vip": False})
    failed = await make_run(db, tenant_a.id, days_old=0, status="failed",
                            error={"message": f"mailbox {word}-err is full"})
    await _run(client, tenant_b.editor.headers, await create_workflow(client, tenant_b.editor.headers),
               {"name": word})

    assert set(await _ids(client, h, f"q={word.lower()}")) == {found["id"], failed}
    assert await _ids(client, h, f"q={word}-err") == [failed]
    assert await _ids(client, h, "q=Hello%20Ada") == [other["id"]]    # only in node hello's output
    assert await _ids(client, h, "q=%25%25%25") == []                  # % is a character, not a wildcard
    assert_problem(await client.get("/api/runs?q=a", headers=h), 422)


async def test_runs_are_filtered_by_trigger_and_time(client, db: Database, tenant_a):
    """trigger picks the runs a trigger started; since and until bound the creation time."""
    h = tenant_a.editor.headers
    wf = await create_workflow(client, h)
    api_run = await _run(client, h, wf, {"name": "Ti"})
    old = await make_run(db, tenant_a.id, days_old=10)
    assert await _ids(client, h, f"workflow_id={wf}&trigger=api") == [api_run["id"]]
    assert await _ids(client, h, f"workflow_id={wf}&trigger=webhook") == []
    week_ago = (datetime.now(timezone.utc) - timedelta(days=7)).isoformat().replace("+00:00", "Z")
    assert old not in await _ids(client, h, f"since={week_ago}")
    assert api_run["id"] in await _ids(client, h, f"since={week_ago}")
    assert await _ids(client, h, f"until={week_ago}&limit=200") == [old]


async def test_the_trigram_indexes_serve_the_search_expressions(db: Database):
    """With sequential scans off, PostgreSQL answers both search expressions from their pg_trgm
    indexes: the expressions in backend/runs/explorer.py are the indexed ones."""
    dialect = postgresql.dialect()
    for stmt, index in ((select(Run.id).where(RUN_TEXT.ilike("%zebra%")), "ix_runs_search_trgm"),
                        (select(NodeRun.run_id).where(NODE_TEXT.ilike("%zebra%")), "ix_node_runs_search_trgm")):
        sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in (await conn.exec_driver_sql(f"EXPLAIN {sql}")).all())
        assert index in plan, plan


async def test_a_run_is_replayed_with_the_same_input(client, tenant_a, tenant_b):
    """Replay starts a new run (trigger replay) of the same graph with the same input; viewers may not,
    and another workspace's run is a 404."""
    h = tenant_a.editor.headers
    wf = await create_workflow(client, h)
    first = await _run(client, h, wf, {"name": "Rae", "vip": True})
    r = await client.post(f"/api/runs/{first['id']}/replay", json={}, headers=h)
    assert r.status_code == 202, r.text
    again = await wait_for_end(client, h, r.json()["id"])
    assert again["id"] != first["id"] and again["trigger"] == "replay" and again["workflow_id"] == wf
    assert again["input"] == first["input"] and again["output"] == first["output"]
    assert_problem(await client.post(f"/api/runs/{first['id']}/replay", headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.post(f"/api/runs/{first['id']}/replay", headers=tenant_b.editor.headers), 404)


async def test_two_runs_are_compared_node_by_node(client, tenant_a, tenant_b):
    """Runs with different names differ at the trigger, at hello and at check (which passes hello's
    output on) but not at vip; a node
    only one run took shows on that side alone."""
    h = tenant_a.editor.headers
    wf = await create_workflow(client, h)
    a = await _run(client, h, wf, {"name": "Ann", "vip": True})
    b = await _run(client, h, wf, {"name": "Bob", "vip": True})
    c = await _run(client, h, wf, {"name": "Ann", "vip": False})
    r = await client.get(f"/api/runs/compare?a={a['id']}&b={b['id']}", headers=tenant_a.viewer.headers)
    assert r.status_code == 200, r.text
    rows = {n["node_id"]: n for n in r.json()["nodes"]}
    assert not rows["start"]["same"] and not rows["hello"]["same"] and not rows["check"]["same"]
    assert rows["vip"]["same"]
    assert rows["hello"]["a"]["output"] == {"output": {"greeting": "Hello Ann"}}
    assert rows["hello"]["b"]["output"] == {"output": {"greeting": "Hello Bob"}}
    assert r.json()["same_output"] is True and r.json()["differing"] == 3
    vs_c = {n["node_id"]: n for n in (await client.get(f"/api/runs/compare?a={a['id']}&b={c['id']}", headers=h)).json()["nodes"]}
    assert vs_c["vip"]["b"]["status"] == "skipped" and vs_c["regular"]["a"]["status"] == "skipped"
    assert not vs_c["vip"]["same"]
    assert_problem(await client.get(f"/api/runs/compare?a={a['id']}&b={b['id']}", headers=tenant_b.owner.headers), 404)
