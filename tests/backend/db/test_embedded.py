"""The embedded PostgreSQL (backend/db/embedded.py): what runs when MAILY_DATABASE_URL is unset."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import embedded_data_dir
from tests.faults.app_process import prefect_servers_of
from tests.flows.fakes import edge, graph, node
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[3]

# Joins the embedded server of argv[1], prints its URL, and leaves when stdin closes.
USER = """
import sys
from backend.db.embedded import embedded_database_url
print(embedded_database_url(sys.argv[1]), flush=True)
sys.stdin.read()
"""


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILY_", "PREFECT_"))}
    env.update(MAILY_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT), MAILY_SECRET_KEY="embedded-test-secret-key",
               MAILY_SCHEDULER_ENABLED="false", MAILY_LOG_LEVEL="WARNING", **extra)
    return env


def postgres_of(data_dir: Path) -> list[int]:
    """Live postgres processes serving `data_dir/postgres`."""
    pgdata = str((data_dir / "postgres").resolve()).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
            if cmd and cmd[0].endswith(b"postgres") and pgdata in cmd:
                if (entry / "stat").read_text().split(")")[-1].split()[0] != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def join(data_dir: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", USER, str(data_dir)], cwd=ROOT, env=env_for(data_dir),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


@pytest.fixture
def data_dir():
    path = embedded_data_dir()
    yield path
    for pid in prefect_servers_of(path) + postgres_of(path):   # never leave one behind, whatever failed
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


def test_processes_share_one_server_and_the_last_one_out_stops_it(data_dir: Path):
    """A second process on the data dir joins the server the first started; it stays up when
    the first leaves and stops when the last one does."""
    first, url = join(data_dir)
    assert url.startswith("postgresql+asyncpg://postgres@/maily?host=")
    [postmaster] = postgres_of(data_dir)[:1]
    second, url2 = join(data_dir)
    assert url2 == url
    assert postmaster in postgres_of(data_dir)
    first.communicate("")
    assert postmaster in postgres_of(data_dir)
    second.communicate("")
    assert postgres_of(data_dir) == []


def test_a_server_whose_user_was_killed_is_adopted_and_stopped(data_dir: Path):
    """A server left running by a SIGKILLed process is joined by the next one (not a second
    server) and stopped when that one leaves."""
    killed, _ = join(data_dir)
    postmaster = postgres_of(data_dir)[0]
    killed.kill()
    killed.wait()
    assert postmaster in postgres_of(data_dir)
    nxt, _ = join(data_dir)
    assert postmaster in postgres_of(data_dir)
    nxt.communicate("")
    assert postgres_of(data_dir) == []


def cli(data_dir: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=ROOT, env=env_for(data_dir),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_maily_serve_without_a_database_url_runs_a_workflow_through_prefect(data_dir: Path):
    """With no MAILY_DATABASE_URL, migrate, seed-demo and serve all use the embedded PostgreSQL;
    a run goes through the embedded Prefect server (its state there too), and a stop leaves
    no postgres or Prefect process behind."""
    assert "database migrated" in cli(data_dir, "migrate")
    token = re.search(r"API token: (\S+)", cli(data_dir, "seed-demo")).group(1)
    assert postgres_of(data_dir) == []   # each command left it behind it
    port = free_port()
    log = open(data_dir / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port)], cwd=ROOT,
                            env=env_for(data_dir, MAILY_PREFECT="always"), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            health = await until(client, lambda b: b.get("prefect") == "ok", proc, data_dir)
            assert health["database"] == "ok"
            doc = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=0.1)], [edge("start", "wait")])
            r = await client.post("/api/runs", json={"graph": doc, "input": {}}, headers=headers)
            assert r.status_code == 202, r.text
            run_id = r.json()["id"]
            deadline = time.monotonic() + 60
            while (run := (await client.get(f"/api/runs/{run_id}", headers=headers)).json())["status"] not in (
                    "succeeded", "failed", "cancelled"):
                assert time.monotonic() < deadline, run
                await asyncio.sleep(0.2)
            assert run["status"] == "succeeded", run
            while not (run := (await client.get(f"/api/runs/{run_id}", headers=headers)).json())["prefect_flow_run_id"]:
                assert time.monotonic() < deadline, run      # its Prefect record is written beside it
                await asyncio.sleep(0.2)
            assert not list((data_dir / "prefect").glob("*.db"))   # Prefect's state is in PostgreSQL too
        assert postgres_of(data_dir)
    finally:
        proc.terminate()
        proc.wait(30)
    assert postgres_of(data_dir) == [], (data_dir / "serve.log").read_text()[-3000:]
    assert prefect_servers_of(data_dir) == []


async def until(client: httpx.AsyncClient, ok, proc: subprocess.Popen, data_dir: Path) -> dict:
    """/api/health's body once `ok(body)` holds (the app and its Prefect server are up)."""
    deadline = time.monotonic() + 120
    body: dict = {}
    while time.monotonic() < deadline:
        assert proc.poll() is None, (data_dir / "serve.log").read_text()[-3000:]
        try:
            body = (await client.get("/api/health")).json()
            if ok(body):
                return body
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"the app never became healthy: {body}\n{(data_dir / 'serve.log').read_text()[-3000:]}")
