"""Fixtures of the API and database tests, on PostgreSQL (the one database the app supports).

PostgreSQL is required: when it does not answer at MAILY_TEST_DATABASE_URL the tests FAIL
(never skip).
Each test session migrates a brand-new database (`maily_test_<random>`, dropped at the end).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

import asyncpg
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from backend.app import create_app
from backend.auth import services as auth
from backend.db.migrate import upgrade_async
from backend.db.session import Database
from backend.settings import Settings

PG_URL = os.environ.get("MAILY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/maily_test")
BACKENDS = ["postgresql"]


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_pg_database() -> str:
    """A new empty database next to MAILY_TEST_DATABASE_URL; returns its SQLAlchemy URL."""
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(PG_URL), timeout=10)
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing here
        pytest.fail(
            f"PostgreSQL is needed at {PG_URL} for the database tests "
            f"({type(exc).__name__}: {exc}). Start it with `bash scripts/ensure-postgres.sh` "
            f"or point MAILY_TEST_DATABASE_URL at one.",
            pytrace=False,
        )
    name = f"maily_test_{secrets.token_hex(6)}"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    conn = await asyncpg.connect(_asyncpg_dsn(PG_URL), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # and the embedded Prefect server's beside it, made when an app on this database started one
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}_prefect" WITH (FORCE)')
    finally:
        await conn.close()


async def fresh_database(backend: str, tmp_dir: Path) -> str:
    """A new empty database (PostgreSQL: the `backend` parameter names the test variant)."""
    return await create_pg_database()


@pytest.fixture(scope="session", params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A migrated database, one per session. Tests isolate themselves by
    creating their own tenants (random slugs and emails)."""
    url = await fresh_database(request.param, tmp_path_factory.mktemp("db"))
    await upgrade_async(url)
    yield url
    await drop_pg_database(url)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # Runs that need Prefect start the embedded server on first use (tests/backend/runs does).
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect_at_start=False)


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as c:
        yield c


@dataclass
class Member:
    user_id: str
    tenant_id: str
    email: str
    password: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class TenantFixture:
    id: str
    slug: str
    owner: Member
    editor: Member
    viewer: Member


async def make_tenant(db: Database, label: str) -> TenantFixture:
    tag = secrets.token_hex(4)
    async with db.sessionmaker() as s, s.begin():
        tenant = await auth.create_tenant(s, f"Tenant {label} {tag}", f"{label}-{tag}")
        members: dict[str, Member] = {}
        for role in ("owner", "editor", "viewer"):
            email, password = f"{role}-{tag}@{label}.test", f"pw-{role}-{tag}"
            user = await auth.create_user(s, email, password, name=f"{role.title()} {label}")
            await auth.add_member(s, tenant.id, user.id, role)
            _, token = await auth.create_api_token(s, tenant.id, user.id, f"{role} token")
            members[role] = Member(user.id, tenant.id, email, password, role, token)
        return TenantFixture(tenant.id, tenant.slug, **members)


@pytest.fixture
async def tenant_a(db: Database) -> TenantFixture:
    return await make_tenant(db, "a")


@pytest.fixture
async def tenant_b(db: Database) -> TenantFixture:
    return await make_tenant(db, "b")


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is RFC 9457 problem+json with this status; returns the document."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    doc = response.json()
    assert doc["status"] == status and doc["type"] and doc["title"] and "detail" in doc, doc
    return doc
