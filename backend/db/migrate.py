"""Alembic, driven from code: `upgrade(url)` brings any database to head.

No alembic.ini is needed: the script location and URL are set here, so `maily migrate`,
the app and the tests all migrate the same way.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from backend.db.session import create_engine, run_to_completion

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation treats % specially (URL-encoded passwords).
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return cfg


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Upgrade from inside a running event loop (app startup, async tests)."""
    cfg = alembic_config(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            def run(sync_conn) -> None:
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, revision)

            await conn.run_sync(run)
            await conn.commit()
    finally:
        await engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` (idempotent). Callable from sync code,
    or from a thread of async code: it then runs its own loop in a helper thread."""
    run_to_completion(lambda: upgrade_async(url, revision))


def current(url: str) -> str | None:
    """The revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    async def read() -> str | None:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
        finally:
            await engine.dispose()

    return asyncio.run(read())
