"""A real `maily serve` process for fault tests: started, SIGKILLed, SIGTERMed, restarted on
the same data dir and database; and the embedded Prefect server it supervises."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER_MARK = "prefect.server.api.server:create_app"



class AppProcess:
    def __init__(self, data_dir: Path, db_url: str, **env: str):
        self.data_dir, self.db_url, self.port = data_dir, db_url, free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILY_", "PREFECT_"))}
        self.env.update({"MAILY_DATABASE_URL": db_url, "MAILY_DATA_DIR": str(data_dir),
                         "MAILY_SECRET_KEY": "test-secret-key", "MAILY_SCHEDULER_ENABLED": "false",
                         "MAILY_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), **env})
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = open(self.data_dir / f"app-{self.starts}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(self.port)],
                                     cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    async def wait_health(self, client: httpx.AsyncClient, want: str = "ok", timeout: float = 90) -> dict:
        """Poll /api/health until Prefect is `want`; returns the body."""
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, f"the app exited: {self.log_tail()}"
            try:
                body = (await client.get(f"{self.url}/api/health")).json()
                if body.get("prefect") == want:
                    return body
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"health never reported prefect {want} within {timeout} s: {body}\n{self.log_tail()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self) -> str:
        path = self.data_dir / f"app-{self.starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def prefect_pid(self) -> int:
        return int((self.data_dir / "prefect" / "server.pid").read_text().split()[0])


def prefect_servers_of(data_dir: Path) -> list[int]:
    """Live Prefect server processes whose PREFECT_HOME is inside `data_dir`."""
    home = f"PREFECT_HOME={(data_dir / 'prefect').resolve()}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if SERVER_MARK.encode() in (entry / "cmdline").read_bytes() and home in (entry / "environ").read_bytes().split(b"\0"):
                if (entry / "stat").read_text().split(")")[-1].split()[0] != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
