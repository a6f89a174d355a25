"""Schemathesis against the app's own OpenAPI document: for every operation, requests generated
from the schema (a bounded number per operation), sent with the API token of a seeded workspace
to the app served by uvicorn on loopback, never get a 5xx answer."""

from __future__ import annotations

import asyncio

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from backend.app import create_app
from backend.db.migrate import upgrade_async
from backend.db.session import Database
from backend.settings import Settings
from tests.backend.conftest import create_pg_database, drop_pg_database, make_tenant
from tests.live_server import serving_in_thread

# Enough to reach every parameter and body shape, small enough for the whole run to take a minute or two.
EXAMPLES_PER_OPERATION = 20


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on a free loopback port with a migrated PostgreSQL database and one seeded workspace."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    url = asyncio.run(create_pg_database())

    async def seed():
        await upgrade_async(url)
        db = Database(url)
        try:
            return await make_tenant(db, "st")
        finally:
            await db.dispose()

    tenant = asyncio.run(seed())
    app = create_app(Settings(database_url=url, data_dir=tmp, secret_key="schemathesis-secret", prefect="never",
                              prefect_at_start=False, scheduler_enabled=False))
    with serving_in_thread(app) as address:
        yield f"http://{address}", tenant
    asyncio.run(drop_pg_database(url))


def _openapi_document() -> dict:
    """The document GET /schema/openapi.json serves (read from an app built without a database)."""
    app = create_app(Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/never_opened", secret_key="x", prefect="never",
                              prefect_at_start=False))
    return app.openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(_openapi_document())


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx(case, served):
    """A request the schema allows (or nearly allows) answers below 500, signed in as the workspace owner."""
    base_url, tenant = served
    case.call_and_validate(base_url=base_url, headers=tenant.owner.headers, checks=[not_a_server_error])
