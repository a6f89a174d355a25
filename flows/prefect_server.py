"""The Prefect API a run talks to: embedded (started and stopped by the app) or external.

Embedded mode: the app starts Prefect's own server in a subprocess on SQLite inside
MAILY_DATA_DIR, in the background at start-up, and stops it at shutdown. Production mode:
PREFECT_API_URL names an external Prefect server (on PostgreSQL) and nothing is started.

Prefect reads its settings from the environment when it is first imported, so every
setting is placed in os.environ before any `import prefect` (all such imports are lazy),
and flows/prefect_flow.py also pins the API URL with `temporary_settings` around each
flow run, so a Prefect imported earlier (by a plugin, say) never starts a server of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from pathlib import Path

log = logging.getLogger("maily.prefect")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure_environment(data_dir: Path, api_url: str | None = None) -> None:
    """Prefect settings for our use; an operator's own PREFECT_* variables win."""
    home = (Path(data_dir) / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)
    defaults = {
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        # our own database records every node; Prefect's log shipping would double the work
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    }
    if api_url:
        defaults["PREFECT_API_URL"] = api_url
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


class PrefectApi:
    """Makes sure a Prefect API answers before the first Prefect run uses it."""

    def __init__(self, data_dir: Path, mode: str = "embedded"):
        self.data_dir = Path(data_dir)
        self.mode = mode
        self._server = None
        self._ready: asyncio.Task[str] | None = None

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    def start_in_background(self) -> None:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_task(self._start())

    async def ready(self) -> str:
        """The API URL, once the server answers (starting it if nobody has yet)."""
        self.start_in_background()
        assert self._ready is not None
        return await asyncio.shield(self._ready)

    async def _start(self) -> str:
        if not self.embedded:
            url = os.environ.get("PREFECT_API_URL", "")
            if not url:
                raise RuntimeError("MAILY_MODE=production needs PREFECT_API_URL (the Prefect server's /api URL)")
            configure_environment(self.data_dir)
            return url
        existing = os.environ.get("PREFECT_API_URL")
        if existing and os.environ.get("MAILY_PREFECT_SHARED_SERVER") == existing:
            return existing  # another PrefectApi of this process already serves it (tests)
        port = _free_port()
        url = f"http://127.0.0.1:{port}/api"
        configure_environment(self.data_dir, api_url=url)
        os.environ["PREFECT_API_URL"] = url
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer(port)
        log.info("starting the embedded Prefect server on %s", url)
        await asyncio.to_thread(server.start, 120)
        self._server = server
        os.environ["MAILY_PREFECT_SHARED_SERVER"] = url
        return url

    async def stop(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
        if self._server is not None:
            await asyncio.to_thread(self._server.stop)
            self._server = None
            os.environ.pop("MAILY_PREFECT_SHARED_SERVER", None)
