"""Fixtures of the fault tests: a fresh, migrated PostgreSQL database with a tenant, shared by
the app processes a test starts and kills."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from tests.production import cluster


@pytest.fixture
async def fault_db() -> AsyncIterator[str]:
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
