"""The Prefect API a run talks to: embedded (started and stopped by the app) or external.

Embedded mode: the app starts Prefect's own server in a subprocess, its state in a PostgreSQL
database the app names (`<ours>_prefect` beside our own, on the embedded PostgreSQL by default),
its files in MAILY_DATA_DIR/prefect, in the background at start-up, supervises it (a health check every few
seconds, a restart on the same port when it dies) and stops it at shutdown. The server runs
in its own process group, dies with the app's process (Linux PR_SET_PDEATHSIG), and its pid
is kept in data_dir/prefect/server.pid so that an orphan left by a SIGKILLed app (on a
system without PDEATHSIG) is killed at the next start instead of running beside a second
server. Production mode:
PREFECT_API_URL names an external Prefect server (on PostgreSQL) and nothing is started.

Prefect reads its settings from the environment when it is first imported, so every
setting is placed in os.environ before any `import prefect` (all such imports are lazy),
and flows/prefect_flow.py also pins the API URL with `temporary_settings` around each
flow run, so a Prefect imported earlier (by a plugin, say) never starts a server of its own.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger("maily.prefect")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure_environment(data_dir: Path, api_url: str | None = None, database_url: str | None = None) -> None:
    """Prefect settings for our use; an operator's own PREFECT_* variables win."""
    home = (Path(data_dir) / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home),
        # our own database records every node; Prefect's log shipping would double the work
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    }
    if api_url:
        defaults["PREFECT_API_URL"] = api_url
    if database_url:
        defaults["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


# The embedded server runs only what our records need (an operator's own PREFECT_* win):
# Prefect's ephemeral mode already skips the scheduler, late-runs, foreman and the other
# loops for deployments and work pools; of what is left, the task-run recorder (task runs
# come as events) and the event persister (the UI's event feed) stay, and these go:
SERVER_DEFAULTS = {
    # automations: every event went through the reactive triggers, and we define none
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
    # the websocket that streams events out to subscribers: nothing of ours subscribes
    "PREFECT_SERVER_EVENTS_STREAM_OUT_ENABLED": "false",
    # Prefect keeps 5 pooled connections and opens up to 10 more for a burst, closing each on
    # return: our recorder keeps up to 16 calls in flight (MAILY_PREFECT_MAX_FLOW_RUNS) besides
    # the recorder and persister services, so under load every call forked a new PostgreSQL
    # backend (connect, type introspection, statements prepared again). Pooling what a burst
    # uses cut the Prefect server's CPU per recorded run by a fifth and PostgreSQL's by half
    # (docs/benchmarks.md); the ceiling stays near Prefect's own 15 (16 + 8).
    "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": "16",
    "PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW": "8",
}

PID_FILE = "server.pid"
_SERVER_MARK = "prefect.server.api.server:create_app"   # in the command line of our server process


@functools.cache
def _health_tls() -> ssl.SSLContext:
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class PrefectUnavailable(RuntimeError):
    """The Prefect API did not answer within the bounded wait: an infrastructure failure."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except OSError:
        pass   # not Linux: the pid file covers it at the next start


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kill_orphan(pid_file: Path) -> bool:
    """Kill the process group a previous app left in `pid_file`, if that is still our Prefect
    server (a recycled pid running something else is left alone). True when one was killed."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    killed = False
    if _SERVER_MARK in _cmdline(pid):
        try:
            os.killpg(pid, signal.SIGKILL)   # the server leads its own group: its children go too
            killed = True
            log.warning("killed an orphaned Prefect server (pid %d) left by a previous run of the app", pid)
        except ProcessLookupError:
            pass
    pid_file.unlink(missing_ok=True)
    return killed


class PrefectApi:
    """Makes sure a Prefect API answers before a Prefect run uses it, and (embedded) keeps
    the server alive: `status` is ok, starting or down; `ready()` waits at most `wait_s`."""

    def __init__(self, data_dir: Path, mode: str = "embedded", *, health_s: float = 2.0, wait_s: float = 60.0,
                 start_timeout_s: float = 120.0, hung_s: float = 20.0, database_url: str = "",
                 prepare_database: Callable[[str], None] | None = None):
        self.data_dir = Path(data_dir)
        # embedded: the PostgreSQL database of the server we start (postgresql+asyncpg://...),
        # and what creates it when missing (run in a thread before the first start)
        self.database_url = database_url
        self.prepare_database = prepare_database
        self.mode = mode
        self.health_s = health_s
        self.wait_s = wait_s
        self.start_timeout_s = start_timeout_s
        self.hung_s = hung_s
        self.url = ""
        self.status = "starting"
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._ready: asyncio.Task[str] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._up = asyncio.Event()
        self._check_now = asyncio.Event()
        self._owns_server = False

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "prefect" / PID_FILE

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start_in_background(self) -> None:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_task(self._start())

    async def ready(self) -> str:
        """The API URL once the server answers (starting it if nobody has yet). While a dead
        server is being restarted this waits, at most `wait_s`, then raises PrefectUnavailable."""
        self.start_in_background()
        assert self._ready is not None
        try:
            url = await asyncio.wait_for(asyncio.shield(self._ready), self.wait_s)
            if self.status != "ok":
                await asyncio.wait_for(self._up.wait(), self.wait_s)
        except asyncio.TimeoutError:
            raise PrefectUnavailable(f"the Prefect server did not answer within {self.wait_s:g} s") from None
        return url

    def report_failure(self) -> None:
        """A run could not reach the API: check its health now rather than at the next tick."""
        self._check_now.set()

    async def _start(self) -> str:
        if not self.embedded:
            url = os.environ.get("PREFECT_API_URL", "")
            if not url:
                raise RuntimeError("MAILY_MODE=production needs PREFECT_API_URL (the Prefect server's /api URL)")
            configure_environment(self.data_dir)
            self.url, self.status = url, "ok"
            self._up.set()
            return url
        existing = os.environ.get("PREFECT_API_URL")
        if existing and os.environ.get("MAILY_PREFECT_SHARED_SERVER") == existing:
            self.url, self.status = existing, "ok"   # another PrefectApi of this process serves it (tests)
            self._up.set()
            return existing
        if not self.database_url and not os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL"):
            raise RuntimeError("the embedded Prefect server needs a PostgreSQL database URL")
        if self.database_url and self.prepare_database is not None:
            await asyncio.to_thread(self.prepare_database, self.database_url)
        configure_environment(self.data_dir, database_url=self.database_url)
        kill_orphan(self.pid_file)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/api"
        configure_environment(self.data_dir, api_url=self.url, database_url=self.database_url)
        os.environ["PREFECT_API_URL"] = self.url
        log.info("starting the embedded Prefect server on %s", self.url)
        await self._spawn_and_wait(port)
        self._owns_server = True
        os.environ["MAILY_PREFECT_SHARED_SERVER"] = self.url
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise(port), name="prefect-supervisor")
        return self.url

    def _spawn(self, port: int) -> None:
        import prefect
        from prefect.settings import get_current_settings

        env = {**SERVER_DEFAULTS, **os.environ, **get_current_settings().to_environment_variables(exclude_unset=True),
               "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        if self.database_url:   # ours, even when an earlier server of this process set another
            env["PREFECT_API_DATABASE_CONNECTION_URL"] = self.database_url
        # spawned from the event loop's (main) thread: PDEATHSIG fires when the spawning thread ends
        self._process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent), "--factory",
             _SERVER_MARK, "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"],
            env=env, start_new_session=True, preexec_fn=_die_with_parent)
        self.pid_file.write_text(f"{self._process.pid}\n")

    async def _healthy(self, timeout_s: float = 3.0) -> bool:
        import httpx

        if self._process is not None and self._process.poll() is not None:
            return False
        try:
            # one TLS context for every check: httpx builds a new one per client otherwise
            # (a visible share of the app's CPU in the profile, docs/benchmarks.md)
            async with httpx.AsyncClient(timeout=timeout_s, verify=_health_tls()) as client:
                return (await client.get(f"{self.url}/health")).status_code == 200
        except httpx.HTTPError:
            return False

    async def _spawn_and_wait(self, port: int) -> None:
        self.status = "starting"
        self._up.clear()
        self._spawn(port)
        deadline = time.monotonic() + self.start_timeout_s
        while not await self._healthy(1.0):
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"the Prefect server exited with code {self._process.returncode} at start")
            if time.monotonic() > deadline:
                self._kill()
                raise RuntimeError(f"the Prefect server did not answer within {self.start_timeout_s:g} s")
            await asyncio.sleep(0.2)
        self.status = "ok"
        self._up.set()

    async def _supervise(self, port: int) -> None:
        """Health-check every `health_s`. An exited process is down at once; a live one only
        when no check has passed for `hung_s` (a busy server on a loaded machine can miss a few
        3 s checks, and killing it would turn a slow moment into a long restart). Down: kill
        what is left of it and start it again on the same port."""
        failures = 0
        failing_since = 0.0
        while True:
            try:
                await asyncio.wait_for(self._check_now.wait(), self.health_s)
            except asyncio.TimeoutError:
                pass
            self._check_now.clear()
            if await self._healthy():
                failures = 0
                continue
            exited = self._process is None or self._process.poll() is not None
            failures += 1
            if failures == 1:
                failing_since = time.monotonic()
            if not exited and (failures < 2 or time.monotonic() - failing_since < self.hung_s):
                continue
            self.status = "down"
            self._up.clear()
            log.error("the embedded Prefect server is down (%s); restarting it",
                      "exited" if exited else "not answering")
            self._kill()
            while True:
                try:
                    await self._spawn_and_wait(port)
                    break
                except Exception as exc:   # the port may be held a moment longer; try again
                    self.status = "down"
                    log.error("restarting the Prefect server failed (%s); trying again", exc)
                    await asyncio.sleep(self.health_s)
            self.restarts += 1
            failures = 0
            log.warning("the embedded Prefect server is back on %s", self.url)

    def _kill(self, grace_s: float = 0.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if grace_s:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(grace_s)
                    return
                except subprocess.TimeoutExpired:
                    pass
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    async def stop(self) -> None:
        for task in (self._supervisor, self._ready):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass
        self._supervisor = None
        await drain_prefect_events(2.0)
        if self._owns_server:
            await asyncio.to_thread(self._kill, 3.0)
            self.pid_file.unlink(missing_ok=True)
            os.environ.pop("MAILY_PREFECT_SHARED_SERVER", None)
            self._owns_server = False
        self.status = "down"


async def drain_prefect_events(timeout_s: float) -> None:
    """Bound what Prefect's in-process events worker holds at stop: pending events are
    dropped (they describe Prefect's own UI timeline; our database holds the run's record),
    then the worker gets `timeout_s` to finish the one in flight. Without this, a stop with
    the server unreachable waits about 7 s per queued event."""
    if "prefect.events.worker" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker

    for worker in list(EventsWorker._instances.values()):
        queue = getattr(worker, "_queue", None)
        while queue is not None:
            try:
                queue.get_nowait()
                queue.task_done()
            except Exception:
                break
    try:
        await asyncio.wait_for(asyncio.shield(EventsWorker.drain_all(timeout=timeout_s, at_exit=False)), timeout_s + 0.5)
    except Exception:
        pass
