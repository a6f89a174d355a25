"""Fixtures of the fault tests: a fresh, migrated database (SQLite file or PostgreSQL) with a
tenant, shared by the app processes a test starts and kills."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from tests.production import cluster


@pytest.fixture(params=["sqlite", "postgresql"])
async def fault_db(request, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        from backend.db.migrate import upgrade_async

        url = f"sqlite+aiosqlite:///{tmp_path / 'maily.db'}"
        await upgrade_async(url)
        yield url
        return
    try:
        await cluster.require_services()
    except cluster.ServiceMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    url = await cluster.create_database()
    yield url
    await cluster.drop_database(url)


@pytest.fixture
async def fault_tenant(fault_db):
    from backend.db.session import Database
    from tests.backend.conftest import make_tenant

    db = Database(fault_db)
    try:
        yield await make_tenant(db, "faults")
    finally:
        await db.dispose()
