"""Run every benchmark in one process and print a summary table.

    .venv/bin/python -m bench.run_all [--quick] [--postgres]      (make bench)

Each benchmark measures its baseline in the same run and prints ratios against it; the
embedded Prefect server (for the Prefect baselines) is started once and shared.
Takes about 3 minutes on 2 cores (--quick: about 1).
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import sys
from datetime import datetime, timezone
from typing import Sequence

from bench import (ai_overhead, api_load, collab, compile_graph, email_throughput, engine_cost, prefect_calls,
                   revocation, start_latency, throughput)
from bench.common import SUMMARY_HEADERS, now, parse_options, run_benches, show, workdir

# Prefect-free measurements first: the embedded Prefect server, started by throughput's
# baseline at its very end and reused by engine_cost, would otherwise compete for the cores.
BENCHES = [compile_graph.bench, start_latency.bench, collab.bench, revocation.bench, api_load.bench, throughput.bench,
           ai_overhead.bench, email_throughput.bench, engine_cost.bench, prefect_calls.bench]


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    opts = parse_options(argv, __doc__ or "")
    print(f"Maily Flow benchmarks, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
          f"{os.cpu_count()} CPUs; Python {platform.python_version()}; {platform.platform()}; "
          f"database {opts.backend}{'; quick' if opts.quick else ''}", flush=True)
    t0 = now()
    with workdir() as wd:
        opts.workdir = wd
        summary = asyncio.run(run_benches(opts, BENCHES))
    show(f"Summary (all benchmarks, {now() - t0:.0f} s)", SUMMARY_HEADERS, [s.row() for s in summary])
    missed = [s for s in summary if s.met is False]
    print(f"\n{len(summary) - len(missed) - sum(s.met is None for s in summary)} target(s) met, "
          f"{len(missed)} missed" + (": " + "; ".join(s.metric for s in missed) if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
