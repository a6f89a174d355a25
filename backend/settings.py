"""Every setting of the app, read from MAILY_* environment variables (README lists them)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILY_", extra="ignore")

    # Where the embedded database, the embedded Prefect server's files and logs live.
    data_dir: Path = Path("var")
    # SQLAlchemy async URL of an external PostgreSQL, e.g. postgresql+asyncpg://user:pass@host:5432/maily.
    # Unset: an embedded PostgreSQL with its data in data_dir/postgres (backend/db/embedded.py).
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Encrypts stored credentials, signs unsubscribe links and certificates. Generated into data_dir on first start when empty.
    secret_key: str = ""
    # Keys replaced by a rotation (comma-separated): still open what they sealed until `maily secrets rotate`
    # re-sealed it under secret_key (docs/credentials.md).
    secret_key_previous: str = ""
    # embedded: flows run in the app's process against a Prefect server the app starts
    # itself (its state in a database beside ours, `<ours>_prefect`). production: an external Prefect
    # API (PREFECT_API_URL) and workers.
    mode: Literal["embedded", "production"] = "embedded"
    # Which runs go through Prefect: "auto" sends graphs with side-effect or waiting nodes
    # through a Prefect flow and runs purely computational graphs on the in-process engine;
    # "always" / "never" force one path (see docs/engine.md).
    prefect: Literal["auto", "always", "never"] = "auto"
    # Start the embedded Prefect server when the app starts (it takes 5-10 s), rather than
    # at the first run that needs it.
    prefect_at_start: bool = True
    # Supervision of the embedded Prefect server: health check interval, and how long a run
    # that needs Prefect waits for a restarting server before it fails as `infrastructure`.
    prefect_health_s: float = 2.0
    prefect_wait_s: float = 60.0
    # Back-pressure: Prefect flow runs in flight at once in this process (all tenants); the
    # rest wait in our queue, `queued`, instead of pushing the Prefect server into 503s.
    prefect_max_flow_runs: int = Field(default=16, ge=1)
    # PostgreSQL connection pool of the app (docs/operations.md, "Sizing the pool"): connections
    # kept open, extra ones under bursts, and how long a request waits for one before it
    # answers 503 with Retry-After.
    db_pool_size: int = 10
    db_max_overflow: int = 20
    db_pool_timeout_s: float = 10.0
    # Hosts http.request may reach although they resolve to private addresses, e.g. "crm.internal,10.0.0.5".
    http_allowed_hosts: str = ""
    http_timeout_s: float = 30.0
    http_max_response_bytes: int = 10 * 1024 * 1024
    # Largest request body the API accepts.
    max_body_bytes: int = 6 * 1024 * 1024
    # Runs one tenant may have running at once; more wait in the queue.
    tenant_max_concurrent_runs: int = 50
    max_running_runs: int = Field(default=100, ge=1)   # per app process, all tenants (flows/runner.py)
    # Waits longer than this (util.delay) suspend the run instead of holding a task; the
    # resumer continues it when the time comes (docs/engine.md, run control).
    suspend_after_s: float = 30.0
    # code.javascript (docs/nodes.md): the most CPU time and memory one call may use, whatever its
    # node asks, and how many worker processes run code at once per event loop.
    code_max_time_s: float = 10.0
    code_max_memory_mb: int = 256
    code_workers: int = 2
    # How often the resumer looks for suspended runs whose time has come.
    resume_poll_s: float = 1.0
    # Allowed browser origins for WebSockets and CORS, comma-separated. Empty: same origin only.
    allowed_origins: str = ""
    # Redis for the AI response cache (redis://127.0.0.1:6379/0). Empty: the cache is a database table.
    redis_url: str = ""
    # AI: which providers and models each tenant tier uses, in order (JSON), e.g.
    # {"free": [], "premium": [{"provider": "openai", "model": "gpt-4o-mini"}, ...]}. Empty: docs/ai.md defaults.
    ai_tier_models: str = ""
    # AI prices in USD per million tokens, merged over the defaults (JSON): {"openai:gpt-4o": [2.5, 10]}.
    ai_prices: str = ""
    ai_timeout_s: float = 20.0          # one provider attempt
    ai_deadline_s: float = 60.0         # all providers and retries of one AI node
    ai_retries: int = 2                 # retries after 429 / 5xx / timeouts, with backoff and jitter
    ai_cache_ttl_s: int = 24 * 3600
    ai_breaker_threshold: int = 5       # consecutive failures that open a provider's circuit
    ai_breaker_reset_s: float = 30.0    # how long an open circuit stays open before one trial call
    # Provider hosts allowed although they resolve to private addresses (a local Ollama), as http_allowed_hosts.
    ai_allowed_hosts: str = ""
    # Operator-wide provider credentials, used for tenants that have none of their own.
    ai_openai_api_key: SecretStr = SecretStr("")
    ai_anthropic_api_key: SecretStr = SecretStr("")
    ai_compatible_base_url: str = ""    # e.g. http://127.0.0.1:11434/v1 (Ollama)
    ai_compatible_api_key: SecretStr = SecretStr("")
    # Email: the app's public address, for unsubscribe links in mail (default http://host:port).
    public_url: str = ""
    # How long an invitation link to a workspace stays valid.
    invitation_ttl_days: int = 7
    # Sends per tenant and per provider (the limits package's notation); a send over a limit waits.
    email_tenant_rate: str = "100/second"
    email_provider_rates: str = "smtp=100/second,resend=2/second,sendgrid=100/second,mailgun=100/second"
    # DNS for verify.email_address: comma-separated resolver addresses (empty: the system's), port, timeouts.
    dns_nameservers: str = ""
    dns_port: int = 53
    dns_timeout_s: float = 2.0
    dns_lifetime_s: float = 4.0
    dns_enabled: bool = True
    # Triggers (docs/triggers.md): webhook rate limits per webhook and per tenant (limits notation),
    # largest webhook body, how old a signed delivery's X-Maily-Timestamp may be.
    webhook_rate: str = "120/minute"
    webhook_tenant_rate: str = "1200/minute"
    webhook_max_body_bytes: int = 1024 * 1024
    webhook_tolerance_s: int = 300
    # The cron scheduler loop: off in processes that should not fire schedules; how often it looks.
    scheduler_enabled: bool = True
    scheduler_interval_s: float = 1.0
    # Run retention (docs/operations.md): the background pruner, how often it passes, runs per batch.
    retention_enabled: bool = True
    retention_interval_s: float = 3600.0
    retention_batch: int = 200
    # Longest chain of workflow-finished triggers (A starts B starts C ...) before it stops.
    chain_max_depth: int = 10
    # flow.subworkflow: how deep runs may call workflows (a run calling itself counts too).
    subworkflow_max_depth: int = Field(default=10, ge=1, le=100)
    # A webhook with respond when_done / node answers within this time, else 504 with the run id.
    webhook_respond_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # An MCP tool call (/mcp, backend/mcp) waits this long for its run, then answers a tool error naming the run.
    mcp_tool_timeout_s: float = Field(default=60.0, gt=0, le=3600)
    # Production workers (`maily worker`, docs/production.md): runs one worker executes at once
    # (a run waiting on a delay holds a slot but no thread), how long its Redis lease on a run
    # lasts without renewal, how often it sweeps for runs whose worker died, and how long a
    # run may stay queued before a sweep takes it without Prefect's hand-over.
    worker_limit: int = 100
    worker_lease_s: float = 5.0
    worker_sweep_s: float = 1.0
    worker_queued_grace_s: float = 10.0
    # SIGTERM: runs in flight get this long to finish, the rest are handed to other workers
    worker_stop_grace_s: float = Field(default=25.0, ge=0)
    # Who may create an account (docs/api.md, README "How a team starts"): "invite" (only by an
    # invitation), "open" (anyone, with a new workspace) or "closed". The first visitor of an instance
    # with no user at all may always sign up and becomes its admin.
    signup: Literal["invite", "open", "closed"] = "invite"
    # Sign-in and password-reset attempts per account (email) and per client address (limits notation).
    signin_account_rate: str = "10/minute"
    signin_address_rate: str = "30/minute"
    log_level: str = "INFO"
    log_json: bool = False
    # GET /metrics wants `Authorization: Bearer <this>` when set (docs/operations.md).
    metrics_token: SecretStr = SecretStr("")
    # With no metrics token, /metrics answers 403 unless the operator opts in to an open endpoint.
    metrics_public: bool = False

    @property
    def resolved_database_url(self) -> str:
        """MAILY_DATABASE_URL, or else the embedded PostgreSQL's: started (or joined, when
        another process on this data dir runs it) on first use, left when the process exits."""
        if self.database_url:
            return self.database_url
        # lazy: backend.db imports SQLAlchemy; settings are read by processes that never open the database
        from backend.db.embedded import embedded_database_url

        return embedded_database_url(self.data_dir)

    @property
    def http_allowed_host_set(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.http_allowed_hosts.split(",") if h.strip())

    @property
    def ai_allowed_host_set(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.ai_allowed_hosts.split(",") if h.strip())

    @property
    def allowed_origin_set(self) -> frozenset[str]:
        return frozenset(o.strip() for o in self.allowed_origins.split(",") if o.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
