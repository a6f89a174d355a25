"""Fixtures of the fault tests: a fresh, migrated PostgreSQL database with a tenant, shared by
the app processes a test starts and kills."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from tests.production import cluster


@pytest.fixture
async def fault_db() -> AsyncIterator[str]:
    async with cluster.scratch_database() as url:
        yield url


@pytest.fixture
async def fault_tenant(fault_db):
    return await cluster.tenant_in(fault_db, "faults")
