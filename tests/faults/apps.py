"""Real processes for the fault tests: `maily serve` as a subprocess on PostgreSQL
(killable with SIGKILL and started again on the same database), and an SMTP sink on loopback
(aiosmtpd in its own thread) that counts deliveries outside our records."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from email import policy
from pathlib import Path
from typing import Any, Callable

import httpx
from aiosmtpd.controller import Controller
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]



class SmtpSink:
    """Counts every message the server accepted, per recipient. `on_delivery(n)` is called in
    the server's thread with the running count before the server answers 250 (a test kills the
    app from there: that message is delivered, but the app never hears it was)."""

    def __init__(self, on_delivery: Callable[[int], None] | None = None):
        self.lock = threading.Lock()
        self.deliveries: list[dict[str, Any]] = []
        self.on_delivery = on_delivery
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.deliveries.append({"to": rcpt, "message_id": msg["Message-ID"]})
            n = len(self.deliveries)
        if self.on_delivery is not None:
            self.on_delivery(n)
        return "250 OK"

    @property
    def port(self) -> int:
        return self.controller.port

    def counts(self) -> Counter:
        with self.lock:
            return Counter(d["to"] for d in self.deliveries)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


class AppProcess:
    """`maily serve` (python -m backend.cli serve) on a database; start() again after kill()."""

    def __init__(self, database_url: str, data_dir: Path, **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        base = {k: v for k, v in os.environ.items() if not k.startswith("MAILY_")}
        base.update(MAILY_DATABASE_URL=database_url, MAILY_DATA_DIR=str(data_dir), MAILY_PREFECT="never",
                    MAILY_PREFECT_AT_START="false", MAILY_SECRET_KEY="fault-test-secret-key",
                    MAILY_SCHEDULER_ENABLED="false", MAILY_LOG_LEVEL="WARNING",
                    MAILY_HTTP_ALLOWED_HOSTS="127.0.0.1", PYTHONPATH=str(ROOT), **env)
        self.env = base
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    async def start(self, timeout: float = 60) -> None:
        self.starts += 1
        log = open(self.data_dir / f"app{self.starts}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(self.port)],
                                     cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            while loop.time() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"maily serve exited with {self.proc.returncode}: {self.log_tail()}")
                try:
                    if (await client.get("/api/health")).status_code < 500:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"maily serve did not answer within {timeout} s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind (safe to call from another thread)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    def wait_dead(self, timeout: float = 30) -> None:
        if self.proc is not None:
            self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log_tail(self) -> str:
        logs = sorted(self.data_dir.glob("app*.log"))
        return logs[-1].read_text(errors="replace")[-3000:] if logs else ""
