"""A credential's secret appears nowhere a run writes: a real `maily serve` (log level DEBUG)
runs a published workflow whose http.request node uses a bearer credential against a loopback
server that reflects the Authorization header; then every API response, the app's log files,
every file in its data dir and every row of every table are searched for the marker string."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from backend.db.session import Database
from tests.backend.conftest import make_tenant
from tests.faults.app_process import AppProcess
from tests.faults.conftest import fault_db  # noqa: F401  (the PostgreSQL database fixture)
from tests.flows.fakes import edge, graph, node
from tests.reflect_server import reflecting

MARKER = "MRK-leakcheck-9d8c7b6a5f4e3d2c"


@pytest.fixture
def reflect_url():
    with reflecting() as url:
        yield f"{url}/whoami"


async def _pg_rows_with(url: str, needle: str) -> list[str]:
    """Tables of the PostgreSQL database holding `needle` anywhere in a row."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        tables = [r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")]
        hits = []
        for table in tables:
            if await conn.fetchval(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE $1', f"%{needle}%"):
                hits.append(table)
        return hits
    finally:
        await conn.close()


def _files_with(root: Path, needle: bytes) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_the_secret_is_nowhere_the_run_wrote(fault_db, tmp_path, reflect_url):
    """API responses, logs, database files and rows carry [redacted] where the token was reflected, never the token."""
    db = Database(fault_db)
    try:
        tenant = await make_tenant(db, "leaks")
    finally:
        await db.dispose()
    data = tmp_path / "data"
    data.mkdir()
    app = AppProcess(data, fault_db, MAILY_LOG_LEVEL="DEBUG", MAILY_HTTP_ALLOWED_HOSTS="127.0.0.1")
    app.start()
    seen: list[str] = []   # every response body of the test
    h = tenant.owner.headers
    try:
        async with httpx.AsyncClient(base_url=app.url, timeout=30, headers=h) as c:
            await app.wait_health(c)

            async def api(method: str, path: str, **kw) -> httpx.Response:
                r = await c.request(method, path, **kw)
                seen.append(f"{method} {path} {r.status_code} {r.headers} {r.text}")
                assert r.status_code < 400, r.text
                return r

            cred = (await api("POST", "/api/credentials",
                              json={"name": "Reflect API", "type": "bearer", "data": {"token": MARKER}})).json()
            doc = graph([node("start", "trigger.manual"),
                         node("call", "http.request", url=reflect_url, credential=cred["id"]),
                         node("copy", "data.set", values={"seen": "{{ nodes.call.output.body.you_sent }}"}),
                         node("cert", "verify.certify", label="leak check")],
                        [edge("start", "call"), edge("call", "copy"), edge("copy", "cert")], name="leaks")
            wf = (await api("POST", "/api/workflows", json={"name": "Leak check", "graph": doc})).json()
            await api("POST", f"/api/workflows/{wf['id']}/publish", json={})
            run = (await api("POST", f"/api/workflows/{wf['id']}/runs", json={"input": {}})).json()
            deadline = time.monotonic() + 90
            while (state := (await api("GET", f"/api/runs/{run['id']}")).json())["status"] not in (
                    "succeeded", "failed", "cancelled"):
                assert time.monotonic() < deadline, state
                await asyncio.sleep(0.1)
            assert state["status"] == "succeeded", state
            events = (await api("GET", f"/api/runs/{run['id']}/events")).json()
            assert "Bearer [redacted]" in json.dumps(events)   # the server did reflect it, and it was scrubbed
            for path in (f"/api/workflows/{wf['id']}", f"/api/workflows/{wf['id']}/versions",
                         f"/api/workflows/{wf['id']}/versions/1", "/api/runs", "/api/credentials",
                         f"/api/credentials/{cred['id']}", "/api/certificates"):
                await api("GET", path)
            await api("POST", "/api/templates/", json={"workflow_id": wf["id"], "title": "Leak check"})
            await api("GET", "/api/templates/")
    finally:
        app.stop()
    leaks = [s[:200] for s in seen if MARKER in s]
    assert not leaks, leaks
    assert not _files_with(tmp_path, MARKER.encode()), "the marker is in a file: a log or the data dir"
    assert not await _pg_rows_with(fault_db, MARKER)
    assert app.log_tail(), "the app wrote its log"
