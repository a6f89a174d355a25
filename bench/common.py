"""Shared helpers of the benchmarks: options, timing, percentiles, tables, a throw-away
database (on an embedded PostgreSQL in the work dir, or a fresh database on the machine's
PostgreSQL with --postgres), a tenant
with an API token, the embedded Prefect server, and the process RSS.

Every benchmark compares against a baseline measured in the same process and run, so the
ratios mean something on any machine; absolute figures are for this machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import secrets
import shutil
import socket
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence

PG_ADMIN_URL = os.environ.get("MAILY_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")

now = time.perf_counter


def free_port() -> int:
    """A loopback port nobody listens on (for a server a benchmark starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- options


@dataclass
class Options:
    quick: bool = False
    postgres: bool = False
    workdir: Path = Path(".")

    @property
    def backend(self) -> str:
        return "postgresql" if self.postgres else "embedded-postgresql"


def parse_options(argv: Sequence[str] | None = None, description: str = "") -> Options:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--postgres", action="store_true",
                        help="use a fresh PostgreSQL database (maily_bench_<random>, dropped after) "
                             "instead of the embedded PostgreSQL in the work dir; admin URL from MAILY_BENCH_PG_URL")
    ns = parser.parse_args(argv)
    return Options(quick=ns.quick, postgres=ns.postgres)


# ---------------------------------------------------------------- statistics


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile, p in [0, 100]."""
    if not values:
        return math.nan
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


@dataclass
class Stats:
    n: int
    mean: float
    p50: float
    p95: float
    min: float
    max: float


def stats(values: Sequence[float]) -> Stats:
    return Stats(len(values), statistics.fmean(values), percentile(values, 50), percentile(values, 95),
                 min(values), max(values))


def ms(seconds: float) -> str:
    """Seconds, formatted as milliseconds with a sensible precision."""
    v = seconds * 1000
    if v >= 100:
        return f"{v:.0f} ms"
    if v >= 1:
        return f"{v:.2f} ms"
    return f"{v:.3f} ms"


def us(seconds: float) -> str:
    v = seconds * 1e6
    return f"{v:.1f} µs" if v < 1000 else ms(seconds)


def ratio(a: float, b: float) -> str:
    if not b or math.isnan(a) or math.isnan(b):
        return "-"
    r = a / b
    return f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    out = [f"\n{title}", line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def show(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    print(table(title, headers, rows), flush=True)


@dataclass
class Summary:
    """One line of run_all's summary table."""
    benchmark: str
    metric: str
    value: str
    baseline: str
    ratio: str
    target: str
    met: bool | None  # None: no target

    def row(self) -> list[str]:
        met = "-" if self.met is None else ("met" if self.met else "MISSED")
        return [self.benchmark, self.metric, self.value, self.baseline, self.ratio, self.target, met]


SUMMARY_HEADERS = ["benchmark", "metric", "value", "baseline (same run)", "ratio", "target", "target"]


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    t0 = now()
    await fn()
    return now() - t0


# ---------------------------------------------------------------- process


def rss_bytes() -> int:
    """Current resident set size of this process (VmRSS)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    import resource  # not Linux: the peak is the best we have
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"


# ---------------------------------------------------------------- database


def _connect_args(url: str) -> dict[str, Any]:
    """asyncpg.connect's arguments for the server of a SQLAlchemy URL, on its `postgres`
    database (a Unix socket directory in ?host= for the embedded server)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return {"host": u.query.get("host") or u.host, "port": u.port, "user": u.username, "password": u.password,
            "database": "postgres"}


@contextlib.asynccontextmanager
async def database(opts: Options, label: str) -> AsyncIterator[str]:
    """A migrated, empty database for one benchmark; yields its SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    from backend.db.migrate import upgrade_async

    import asyncpg

    admin = PG_ADMIN_URL
    if not opts.postgres:   # the default app's database: the embedded server, started once per process
        from backend.db.embedded import embedded_database_url

        admin = await asyncio.to_thread(embedded_database_url, opts.workdir / "embedded")
    name = f"maily_bench_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(**_connect_args(admin), timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_async(url)
        yield url
    finally:
        conn = await asyncpg.connect(**_connect_args(admin), timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@dataclass
class Tenant:
    id: str
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_tenant(db: Any, label: str = "bench") -> Tenant:
    """A tenant with an editor and the editor's API token (as tests/backend/conftest.py does)."""
    from backend.auth import services as auth

    tag = secrets.token_hex(4)
    async with db.sessionmaker() as s, s.begin():
        tenant = await auth.create_tenant(s, f"Bench {label} {tag}", f"{label}-{tag}")
        user = await auth.create_user(s, f"editor-{tag}@{label}.test", f"pw-{tag}", name="Bench editor")
        await auth.add_member(s, tenant.id, user.id, "editor")
        _, token = await auth.create_api_token(s, tenant.id, user.id, "bench token")
    return Tenant(tenant.id, user.id, token)


# ---------------------------------------------------------------- Prefect


_prefect: Any = None


async def prefect_api_url(opts: Options) -> str:
    """The embedded Prefect server (its state on the embedded PostgreSQL in the work dir), started once per process."""
    global _prefect
    if _prefect is None:
        from backend.db.embedded import create_database, embedded_database_url, prefect_database_url
        from flows.prefect_server import PrefectApi

        # the server is killed at the end of the run, maybe while it still flushes events:
        # keep its shutdown tracebacks out of the report
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
        data_dir = opts.workdir / "prefect-data"
        database = prefect_database_url(await asyncio.to_thread(embedded_database_url, data_dir))
        _prefect = PrefectApi(data_dir, database_url=database, prepare_database=create_database)
        t0 = now()
        url = await _prefect.ready()
        print(f"  (embedded Prefect server up in {now() - t0:.1f} s at {url})", flush=True)
    return await _prefect.ready()


async def stop_prefect() -> None:
    global _prefect
    if _prefect is not None:
        await _prefect.stop()
        _prefect = None


# ---------------------------------------------------------------- running


Bench = Callable[[Options], Awaitable[list[Summary]]]


@contextlib.contextmanager
def workdir() -> Any:
    path = Path(tempfile.mkdtemp(prefix="maily-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def run_benches(opts: Options, benches: Sequence[Bench]) -> list[Summary]:
    out: list[Summary] = []
    try:
        for bench in benches:
            out += await bench(opts)
    finally:
        await stop_prefect()
    return out


def main(bench: Bench, description: str, argv: Sequence[str] | None = None) -> list[Summary]:
    """Entry point of one benchmark module run on its own."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    opts = parse_options(argv, description)
    with workdir() as wd:
        opts.workdir = wd
        summary = asyncio.run(run_benches(opts, [bench]))
    show("Summary", SUMMARY_HEADERS, [s.row() for s in summary])
    return summary
