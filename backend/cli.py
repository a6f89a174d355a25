"""The `maily` command: serve, migrate, seed-demo, validate, run, token, worker, ai, workspace, runs, secrets."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from sqlalchemy import select

from backend.auth import services as auth
from backend.certify.services import verify_document
from backend.credentials.envelope import Keyring
from backend.credentials.rotate import rotate
from backend.db.embedded import create_database, prefect_database_url
from backend.db.models import TENANT_TIERS, Tenant, utcnow
from backend.db.session import Database
from backend.errors import ApiError
from backend.logs import configure_logging
from backend.retention.services import prune_all, prune_tenant
from backend.seed import seed_demo as seed
from backend.settings import get_settings
from backend.workspaces.services import set_tier
from flows.compile import CompileError, compile_graph
from flows.jsonlimits import JsonLimitError, parse_limited
from flows.prefect_server import PrefectApi
from flows.runner import RunManager
from flows.validate import validate_graph
from nodes.registry import default_registry

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Maily Flow: visual workflows on Prefect.")
out = Console()
err = Console(stderr=True)

_STYLE = {"succeeded": "green", "failed": "red", "skipped": "dim", "cancelled": "yellow", "retrying": "yellow",
          "started": "cyan",
          "waiting": "yellow", "reused": "dim"}


def _settings():
    return get_settings()


def _load_json(path: Path) -> Any:
    try:
        return parse_limited(path.read_bytes())
    except OSError as exc:
        err.print(f"[red]cannot read {path}: {exc.strerror}[/red]")
        raise typer.Exit(2)
    except JsonLimitError as exc:
        err.print(f"[red]{path}: {exc.message}[/red]")
        raise typer.Exit(2)


@app.command()
def migrate() -> None:
    """Apply the database migrations (MAILY_DATABASE_URL, default: the embedded PostgreSQL in MAILY_DATA_DIR)."""
    # lazy: Alembic (and Mako) are needed by `maily migrate` alone
    from backend.db.migrate import upgrade

    url = _settings().resolved_database_url
    upgrade(url)
    out.print(f"database migrated: {url.split('@')[-1]}")


@app.command("seed-demo")
def seed_demo() -> None:
    """Create the demo tenant, user, API token and sample workflow (idempotent)."""
    async def go() -> dict[str, str]:
        db = Database(_settings().resolved_database_url)
        try:
            return await seed(db)
        finally:
            await db.dispose()

    demo = asyncio.run(go())
    s = _settings()
    out.print(f"\n[bold]Maily Flow[/bold] demo workspace is ready: http://{s.host}:{s.port}\n"
              f"  sign in:   {demo['email']} / {demo['password']}\n"
              f"  API token: {demo['token']}\n"
              f"  e.g. curl -H 'Authorization: Bearer {demo['token']}' http://{s.host}:{s.port}/api/workflows\n", soft_wrap=True)


@app.command()
def serve(host: Optional[str] = None, port: Optional[int] = None) -> None:
    """Serve the app (API, WebSockets, editor)."""
    import uvicorn

    # lazy: the web app (Litestar and every domain, about a second) is loaded by `maily serve` alone
    from backend.app import create_app
    s = _settings()
    configure_logging(s)
    # WebSockets: websockets' sans-I/O implementation (the legacy one is deprecated and slower)
    # and no permessage-deflate: compressing every co-editing message once per connection
    # costs more CPU and latency than it saves on small Yjs updates (docs/benchmarks.md).
    # A SIGTERM stops within about 10 s (docs/operations.md): requests still open after 3 s
    # (long polls, co-editing sockets) are closed, then runs are interrupted for the next start.
    uvicorn.run(create_app(s), host=host or s.host, port=port or s.port, log_level=s.log_level.lower(),
                ws="websockets-sansio", ws_per_message_deflate=False, timeout_graceful_shutdown=3)


@app.command()
def validate(path: Path) -> None:
    """Validate a graph document; lists every problem with node id and JSON pointer. Exit 1 on errors."""
    result = validate_graph(_load_json(path), default_registry())
    for p in result.problems:
        colour = "red" if p.severity == "error" else "yellow"
        where = p.node_id and f"node {p.node_id}" or p.edge_id and f"edge {p.edge_id}" or "document"
        out.print(f"[{colour}]{p.severity}[/{colour}] {p.code:<16} {where:<24} {p.pointer or '/'}  {p.message}")
    out.print(f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)")
    raise typer.Exit(0 if result.ok else 1)


def _parse_inputs(pairs: list[str]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            err.print(f"[red]--input wants key=value, got {pair!r}[/red]")
            raise typer.Exit(2)
        try:
            payload[key] = json.loads(raw)       # numbers, booleans, lists, objects
        except json.JSONDecodeError:
            payload[key] = raw                   # anything else is a string
    return payload


class _Progress:
    """Prints each node's progress as it happens."""

    def emit(self, event: Any) -> None:
        if event.node_id is None:
            return
        status = event.status
        where = event.node_id if event.iteration is None else f"{event.node_id}[{event.iteration}]"
        detail = ""
        if "error" in event.data:
            detail = event.data["error"].get("message", "")
        elif status == "retrying":
            detail = f"attempt {event.attempt} in {event.data.get('delay_s')} s"
        elif status == "waiting":
            detail = f"until {event.data['resume_at']}" if event.data.get("resume_at") else "for a decision"
        style = _STYLE.get(status, "white")
        out.print(f"  [{style}]{status:<10}[/{style}] {where}  {detail}")


@app.command()
def run(path: Path, input: list[str] = typer.Option([], "--input", "-i", help="key=value (value may be JSON)"),
        prefect: Optional[bool] = typer.Option(None, help="Force (--prefect) or skip (--no-prefect) Prefect")) -> None:
    """Run a graph document here, printing each node's progress; exit 0 when it succeeds."""
    # lazy: the node services load the AI and email stacks (Litestar, SMTP, DNS); `maily run` alone needs them
    from backend.runs.node_services import close_node_services, node_services

    s = _settings()
    try:
        plan = compile_graph(_load_json(path), default_registry())
    except CompileError as exc:
        for p in exc.result.errors:
            err.print(f"[red]error[/red] {p.code} {p.node_id or p.edge_id or ''} {p.pointer}  {p.message}")
        raise typer.Exit(1)
    mode = {True: "always", False: "never", None: s.prefect}[prefect]

    async def go() -> Any:
        api = None if mode == "never" else PrefectApi(
            s.data_dir, s.mode, database_url=prefect_database_url(s.resolved_database_url), prepare_database=create_database)
        services_ = node_services(s)
        manager = RunManager(sinks=[_Progress()], services=services_, prefect=api, prefect_mode=mode)
        try:
            task = manager.submit(plan, uuid.uuid4().hex, _parse_inputs(input), meta={"trigger": "cli"})
            outcome = await task
            try:    # the run's Prefect record is written beside it: let it catch up (a booting server)
                await asyncio.wait_for(manager.prefect_record.caught_up(), s.prefect_wait_s)
            except asyncio.TimeoutError:
                err.print("[yellow]the run's Prefect record did not catch up; Prefect misses it[/yellow]")
            return outcome
        finally:
            await manager.shutdown()
            await close_node_services(services_)

    out.print(f"running [bold]{plan.name}[/bold] ({len(plan.nodes)} nodes)")
    outcome = asyncio.run(go())
    if outcome.status == "succeeded":
        out.print("[green]succeeded[/green]")
        out.print_json(json.dumps(outcome.output, default=str))
        raise typer.Exit(0)
    if outcome.status == "waiting":   # suspended: a long delay or an approval (docs/engine.md, run control)
        for w in outcome.waiting:
            until = f"until {w['resume_at']}" if w.get("resume_at") else "for a decision"
            out.print(f"[yellow]waiting[/yellow] {w['node_id']} ({w['reason']}) {until}")
        out.print("the run is suspended; runs started through the app resume on their own")
        raise typer.Exit(3)
    out.print(f"[{'yellow' if outcome.status in ('paused', 'cancelled') else 'red'}]{outcome.status}[/] "
              f"{json.dumps(outcome.error or {}, default=str)}")
    raise typer.Exit(1)


@app.command()
def token(email: str = typer.Option(..., help="The user's email"), name: str = "cli",
          tenant: Optional[str] = typer.Option(None, help="Tenant id or slug (default: the first)")) -> None:
    """Create an API token for a user; it is shown once."""
    async def go() -> str:
        db = Database(_settings().resolved_database_url)
        try:
            async with db.sessionmaker() as s, s.begin():
                user = await auth.user_by_email(s, email)
                if user is None:
                    raise LookupError(f"no user {email}")
                picked = auth.pick_membership(await auth.memberships_of(s, user.id), tenant)
                if picked is None:
                    raise LookupError(f"{email} is not a member of {tenant or 'any tenant'}")
                _, secret = await auth.create_api_token(s, picked[1].id, user.id, name)
                return secret
        finally:
            await db.dispose()

    try:
        out.print(asyncio.run(go()))
    except LookupError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1)


@app.command()
def verify(cert_file: Path) -> None:
    """Check a certificate file against this installation's keys and ledger; exit 0 when valid."""
    doc = _load_json(cert_file)

    async def go() -> dict[str, Any]:
        db = Database(_settings().resolved_database_url)
        try:
            return await verify_document(db, doc)
        finally:
            await db.dispose()

    report = asyncio.run(go())
    for name, ok in report["checks"].items():
        out.print(f"  {'[green]ok[/green]  ' if ok else '[red]FAIL[/red]'} {name}")
    for problem in report["problems"]:
        err.print(f"[red]{problem}[/red]")
    out.print("[green]valid[/green]" if report["valid"] else "[red]NOT valid[/red]")
    raise typer.Exit(0 if report["valid"] else 1)


@app.command()
def worker(limit: Optional[int] = typer.Option(None, help="Runs executed at once (default MAILY_WORKER_LIMIT)")) -> None:
    """Execute production-mode runs: a Prefect task worker (PREFECT_API_URL, MAILY_REDIS_URL, MAILY_DATABASE_URL)."""
    s = _settings()
    if s.mode != "production":
        err.print("[yellow]maily worker is for MAILY_MODE=production; embedded mode runs flows in the app[/yellow]")
        raise typer.Exit(2)
    configure_logging(s)
    # lazy: the worker imports Prefect (about a second), needed by `maily worker` alone
    from backend.runs.worker import serve_worker

    try:
        asyncio.run(serve_worker(s, limit=limit))
    except RuntimeError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)
    except KeyboardInterrupt:
        pass


ai_app = typer.Typer(no_args_is_help=True, help="AI gateway: usage and cost reports.")
app.add_typer(ai_app, name="ai")


@ai_app.command("usage")
def ai_usage(tenant: str = typer.Option(..., help="Tenant slug or id"),
             by: str = typer.Option("day", help="workflow, model, day, provider or node_type"),
             days: int = typer.Option(30, help="Only the last N days"),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table")) -> None:
    """AI calls, cache hits, errors, tokens and cost of one tenant, grouped."""
    from datetime import timedelta

    import sqlalchemy as sa
    from rich.table import Table

    # lazy: the AI services load the API's stack (Litestar); `maily ai usage` alone needs it
    from backend.ai.services import usage_report
    if by not in ("workflow", "model", "day", "provider", "node_type"):
        err.print(f"[red]--by must be workflow, model, day, provider or node_type, not {by!r}[/red]")
        raise typer.Exit(2)

    async def go() -> list[dict[str, Any]] | None:
        db = Database(_settings().resolved_database_url)
        try:
            async with db.sessionmaker() as s:
                row = (await s.execute(sa.select(Tenant.id).where(sa.or_(Tenant.slug == tenant, Tenant.id == tenant)))).first()
                if row is None:
                    return None
                return await usage_report(s, row[0], by, since=utcnow() - timedelta(days=days))  # type: ignore[arg-type]
        finally:
            await db.dispose()

    rows = asyncio.run(go())
    if rows is None:
        err.print(f"[red]no tenant {tenant!r}[/red]")
        raise typer.Exit(1)
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title=f"AI usage by {by}, last {days} days")
    for col in (by, "calls", "cache_hits", "errors", "tokens_in", "tokens_out", "cost_usd", "avg_latency_ms"):
        table.add_column(col, justify="left" if col == by else "right")
    for r in rows:
        table.add_row(str(r[by]), *(str(r[k]) for k in ("calls", "cache_hits", "errors", "tokens_in", "tokens_out")),
                      f"{r['cost_usd']:.6f}", f"{r['avg_latency_ms']:.1f}")
    out.print(table)


workspace_app = typer.Typer(no_args_is_help=True, help="Workspaces: plans (tiers).")
app.add_typer(workspace_app, name="workspace")


@workspace_app.command("set-tier")
def workspace_set_tier(slug: str = typer.Argument(..., help="Workspace slug (or id)"),
                       tier: str = typer.Argument(..., help="free, premium or enterprise")) -> None:
    """Set a workspace's tier (what its AI nodes may use); recorded in its audit trail."""
    if tier not in TENANT_TIERS:
        err.print(f"[red]unknown tier {tier!r}: use one of {', '.join(TENANT_TIERS)}[/red]")
        raise typer.Exit(2)

    async def go() -> str:
        db = Database(_settings().resolved_database_url)
        try:
            async with db.sessionmaker() as s, s.begin():
                return (await set_tier(s, None, slug, tier)).slug
        finally:
            await db.dispose()

    try:
        done = asyncio.run(go())
    except ApiError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1)
    out.print(f"workspace {done}: tier {tier}")


runs_app = typer.Typer(no_args_is_help=True, help="Runs: retention.")
app.add_typer(runs_app, name="runs")


@runs_app.command("prune")
def runs_prune(dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would go"),
               workspace: Optional[str] = typer.Option(None, help="One workspace (slug or id); default: all"),
               as_json: bool = typer.Option(False, "--json", help="Print JSON instead of lines")) -> None:
    """Prune runs past each workspace's retention (with their node runs, events and outbox rows)."""
    settings = _settings()

    async def go() -> dict[str, Any] | None:
        db = Database(settings.resolved_database_url)
        try:
            if workspace is None:
                return await prune_all(db, dry_run=dry_run, batch=settings.retention_batch)
            async with db.sessionmaker() as s:
                row = (await s.execute(select(Tenant.id, Tenant.slug).where(
                    (Tenant.slug == workspace) | (Tenant.id == workspace)))).first()
            if row is None:
                return None
            return {row.slug: await prune_tenant(db, row.id, dry_run=dry_run, batch=settings.retention_batch)}
        finally:
            await db.dispose()

    reports = asyncio.run(go())
    if reports is None:
        err.print(f"[red]no workspace {workspace!r}[/red]")
        raise typer.Exit(1)
    if as_json:
        out.print_json(json.dumps({k: r.model_dump() for k, r in reports.items()}))
        return
    verb = "would prune" if dry_run else "pruned"
    for slug, r in reports.items():
        out.print(f"{slug}: {verb} {r.runs} run(s), {r.node_runs} node run(s), {r.events} event(s), "
                  f"{r.outbox} outbox message(s)")
    total = sum(r.runs for r in reports.values())
    out.print(f"{'dry run: ' if dry_run else ''}{total} run(s) {verb} in {len(reports)} workspace(s)")


secrets_app = typer.Typer(no_args_is_help=True, help="Secrets at rest: key rotation.")
app.add_typer(secrets_app, name="secrets")


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-seal every stored secret under MAILY_SECRET_KEY (opening them with MAILY_SECRET_KEY_PREVIOUS);
    see docs/credentials.md for the whole procedure."""
    settings = _settings()
    keyring = Keyring.from_settings(settings)

    async def go():
        db = Database(settings.resolved_database_url)
        try:
            return await rotate(db, keyring)
        finally:
            await db.dispose()

    report = asyncio.run(go())
    out.print(report.summary())
    for item in report.unreadable:
        err.print(f"[yellow]no configured key opens {item}[/yellow]")
    if report.unreadable:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
