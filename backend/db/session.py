"""The async engine and session factory: PostgreSQL through asyncpg with a bounded pool
(the embedded PostgreSQL of backend/db/embedded.py, or MAILY_DATABASE_URL's)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable, Callable, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


T = TypeVar("T")


def run_to_completion(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from sync code: on this thread when no loop runs here, else on a loop of
    its own in a helper thread (a sync call made from inside async code, e.g. `maily` commands)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())   # type: ignore[arg-type]
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(make()))   # type: ignore[arg-type]
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    t = threading.Thread(target=target, name="maily-db-sync")
    t.start()
    t.join()
    if errors:
        raise errors[0]
    return result[0]


# The engines of the node services (AI gateway, mailer, vault: backend/runs/node_services.py):
# a burst of runs (a thousand campaigns started at once) queues for their connections, first
# come first served (SQLAlchemy's async pool), for as long as the burst takes; the default 30 s
# failed nodes as bugs on a loaded machine (docs/benchmarks.md, "Workflow runs through Prefect").
NODE_POOL_TIMEOUT_S = 900.0


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)   # survive PostgreSQL restarts
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


class Database:
    """One engine and its session factory. `app.state.db` holds the app's instance."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(url, **engine_kwargs)
        # expire_on_commit=False: handlers serialise rows after the commit.
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    async def ping(self) -> bool:
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
