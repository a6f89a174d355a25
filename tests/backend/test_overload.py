"""Overload answers 503 with Retry-After, never 500 (backend/errors.py, overload())."""

from __future__ import annotations

import asyncio

from litestar import Request, post
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.db.migrate import upgrade_async
from backend.settings import Settings
from tests.backend.conftest import assert_problem, create_pg_database, drop_pg_database

LOGIN = {"email": "nobody@example.com", "password": "x" * 12}


@post("/api/test/hold", status_code=200)
async def hold(request: Request) -> None:
    """Takes the pool's connection in the app's loop and keeps it in the background until the test
    sets `app.state.release`."""
    taken, request.app.state.release = asyncio.Event(), asyncio.Event()

    async def keep() -> None:
        async with request.app.state.db.engine.connect():
            taken.set()
            await request.app.state.release.wait()

    request.app.state.holder = asyncio.get_running_loop().create_task(keep())
    await taken.wait()


async def test_an_exhausted_postgresql_pool_answers_503_with_retry_after(tmp_path):
    """With every pooled connection held, a request that needs one answers 503 problem+json with Retry-After."""
    url = await create_pg_database()
    try:
        await upgrade_async(url)
        settings = Settings(database_url=url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                            prefect_at_start=False, db_pool_size=1, db_max_overflow=0, db_pool_timeout_s=0.5)
        app = create_app(settings, extra_route_handlers=[hold])
        async with AsyncTestClient(app=app) as client:
            assert app.state.db.engine.pool.size() == 1
            assert (await client.post("/api/test/hold")).status_code == 200
            try:
                r = await client.post("/api/auth/login", json=LOGIN)
                doc = assert_problem(r, 503)
                assert r.headers["retry-after"] == "2" and doc["retry_after_s"] == 2 and "busy" in doc["detail"]
            finally:
                app.state.release.set()
            for _ in range(200):                          # once the connection is back, requests are served
                r = await client.post("/api/auth/login", json=LOGIN)
                if r.status_code != 503:
                    break
                await asyncio.sleep(0.1)
            assert r.status_code == 401, r.text
    finally:
        await drop_pg_database(url)
