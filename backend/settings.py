"""Every setting of the app, read from MAILY_* environment variables (README lists them)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILY_", extra="ignore")

    # Where the embedded database, the embedded Prefect server's files and logs live.
    data_dir: Path = Path("var")
    # SQLAlchemy async URL. Default: embedded SQLite in data_dir.
    # Production: postgresql+asyncpg://user:pass@host:5432/maily
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Signs browser sessions. Generated into data_dir on first start when empty.
    secret_key: str = ""
    # embedded: flows run in the app's process against a Prefect server the app starts
    # itself (SQLite). production: an external Prefect API (PREFECT_API_URL) and workers.
    mode: Literal["embedded", "production"] = "embedded"
    # Which runs go through Prefect: "auto" sends graphs with side-effect or waiting nodes
    # through a Prefect flow and runs purely computational graphs on the in-process engine;
    # "always" / "never" force one path (see docs/engine.md).
    prefect: Literal["auto", "always", "never"] = "auto"
    # Start the embedded Prefect server when the app starts (it takes 5-10 s), rather than
    # at the first run that needs it.
    prefect_at_start: bool = True
    # Hosts http.request may reach although they resolve to private addresses, e.g. "crm.internal,10.0.0.5".
    http_allowed_hosts: str = ""
    http_timeout_s: float = 30.0
    http_max_response_bytes: int = 10 * 1024 * 1024
    # Largest request body the API accepts.
    max_body_bytes: int = 6 * 1024 * 1024
    # Runs one tenant may have running at once; more wait in the queue.
    tenant_max_concurrent_runs: int = 50
    # Allowed browser origins for WebSockets and CORS, comma-separated. Empty: same origin only.
    allowed_origins: str = ""
    log_level: str = "INFO"
    log_json: bool = False

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'maily.db').resolve()}"

    @property
    def http_allowed_host_set(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.http_allowed_hosts.split(",") if h.strip())

    @property
    def allowed_origin_set(self) -> frozenset[str]:
        return frozenset(o.strip() for o in self.allowed_origins.split(",") if o.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
