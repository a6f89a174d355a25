"""A production-mode cluster on this machine, for the durability tests and bench/production.py:
a fresh PostgreSQL database, Redis, a Prefect server (subprocess), `maily worker`
subprocesses and the app (in this process, MAILY_MODE=production).

PostgreSQL and Redis are required: when either does not answer, `require_services` FAILS
with what to start (never skips)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("MAILY_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/maily_test")
REDIS_URL = os.environ.get("MAILY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class ServiceMissing(RuntimeError):
    pass


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def require_services() -> None:
    try:
        conn = await asyncpg.connect(_dsn(PG_URL), timeout=5)
        await conn.close()
    except Exception as exc:
        raise ServiceMissing(f"PostgreSQL is needed at {PG_URL} for the production tests ({type(exc).__name__}: {exc}); "
                             f"start it (bash scripts/ensure-postgres.sh) or set MAILY_TEST_DATABASE_URL") from None
    import redis.asyncio as redis

    r = redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await r.ping()
    except Exception as exc:
        raise ServiceMissing(f"Redis is needed at {REDIS_URL} for the production tests ({type(exc).__name__}: {exc}); "
                             f"start redis-server or set MAILY_TEST_REDIS_URL") from None
    finally:
        await r.aclose()


async def create_database() -> str:
    from backend.db.migrate import upgrade_async

    name = f"maily_prod_{secrets.token_hex(5)}"
    conn = await asyncpg.connect(_dsn(PG_URL), timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await upgrade_async(url)
    return url


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A fresh, migrated database for a test's processes, dropped afterwards; the test FAILS
    (pytest.fail, never a skip) when PostgreSQL or Redis does not answer."""
    import pytest

    try:
        await require_services()
    except ServiceMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    url = await create_database()
    try:
        yield url
    finally:
        await drop_database(url)


async def tenant_in(url: str, slug: str) -> Any:
    """A new tenant with its members and tokens in the database at `url` (tests.backend.conftest.make_tenant)."""
    from backend.db.session import Database
    from tests.backend.conftest import make_tenant

    db = Database(url)
    try:
        return await make_tenant(db, slug)
    finally:
        await db.dispose()


async def drop_database(url: str) -> None:
    conn = await asyncpg.connect(_dsn(PG_URL), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        # and the embedded Prefect server's beside it, made when an app on this database started one
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}_prefect" WITH (FORCE)')
    finally:
        await conn.close()


async def terminate_connections(url: str) -> int:
    """Drop every connection to the database (as a failover or an admin would)."""
    conn = await asyncpg.connect(_dsn(url), timeout=10)
    try:
        rows = await conn.fetch("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return len(rows)
    finally:
        await conn.close()


class Worker:
    """One `maily worker` process."""

    def __init__(self, env: dict[str, str], log_path: Path, limit: int = 100):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "worker", "--limit", str(limit)],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"maily worker exited ({self.proc.returncode}):\n{self.log_path.read_text()[-3000:]}")
            if b"slot(s), Prefect" in self.log_path.read_bytes():
                time.sleep(0.5)      # the task worker subscribes right after this line
                return
            time.sleep(0.05)
        raise RuntimeError(f"maily worker not ready in {timeout} s:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0


def worker_env(db_url: str, data_dir: Path, prefect_api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILY_", "PREFECT_"))}
    env.update({
        "MAILY_MODE": "production", "MAILY_DATABASE_URL": db_url, "MAILY_REDIS_URL": REDIS_URL,
        "MAILY_DATA_DIR": str(data_dir), "PREFECT_API_URL": prefect_api_url, "MAILY_HTTP_ALLOWED_HOSTS": "127.0.0.1",
        "MAILY_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


class CountingServer:
    """A loopback HTTP endpoint that counts the requests per path: the side effect under test."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        hits = self.hits
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                with lock:
                    hits[self.path] += 1
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
