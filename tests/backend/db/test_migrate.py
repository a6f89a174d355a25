"""The Alembic migrations build the whole schema on PostgreSQL, and re-running
them changes nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import inspect

from backend.db.migrate import alembic_config, upgrade_async
from backend.db.models import Base
from backend.db.session import Database
from tests.backend.conftest import BACKENDS, drop_pg_database, fresh_database


def _head() -> str:
    """The newest revision in migrations/versions (several people add migrations)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()


def _schema(sync_conn):
    insp = inspect(sync_conn)
    tables = set(insp.get_table_names())
    indexes = {t: {i["name"] for i in insp.get_indexes(t)} for t in tables}
    uniques = {t: {tuple(u["column_names"]) for u in insp.get_unique_constraints(t)} for t in tables}
    return tables, indexes, uniques


@pytest.mark.parametrize("backend", BACKENDS)
async def test_migrations_create_every_table_and_are_idempotent(backend, tmp_path):
    url = await fresh_database(backend, tmp_path / "nested" / "dir")
    try:
        await upgrade_async(url)
        db = Database(url)
        async with db.engine.connect() as conn:
            tables, indexes, uniques = await conn.run_sync(_schema)
            version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()
        assert set(Base.metadata.tables) <= tables
        assert version == _head()
        assert {"ix_runs_tenant_id_created_at", "ix_runs_tenant_id_status"} <= indexes["runs"]
        assert "ix_workflows_tenant_id" in indexes["workflows"]
        assert "ix_node_runs_run_id" in indexes["node_runs"]
        assert ("run_id", "seq") in uniques["run_events"]
        assert ("workflow_id", "version") in uniques["workflow_versions"]
        assert ("tenant_id", "user_id") in uniques["memberships"]

        await upgrade_async(url)  # again: nothing to do, nothing breaks
        async with db.engine.connect() as conn:
            assert (await conn.run_sync(_schema))[0] == tables
        await db.dispose()
    finally:
        await drop_pg_database(url)


def test_sync_upgrade_outside_a_loop(tmp_path):
    from backend.db.migrate import current, upgrade

    url = asyncio.run(fresh_database("postgresql", tmp_path))
    try:
        upgrade(url)
        upgrade(url)
        assert current(url) == _head()
    finally:
        asyncio.run(drop_pg_database(url))


async def test_sync_upgrade_called_from_a_running_loop(tmp_path):
    from backend.db.migrate import upgrade

    url = await fresh_database("postgresql", tmp_path)
    upgrade(url)  # runs its own loop in a helper thread instead of failing
    db = Database(url)
    async with db.engine.connect() as conn:
        assert (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar() == _head()
    await db.dispose()
    await drop_pg_database(url)
