"""The cost of applying each co-editing update first in the sacrificial worker (backend/collab/sandbox.py),
and what it leaves uncovered.

  cost      one editor's updates (a label typed a character at a time) admitted the way a room does:
            the current path (check_update, then sandbox.check, then apply) against the path without
            the sandbox (check_update, then apply), in the same run, on the welcome workflow's
            document and on a 500-node one. Per update: mean, p50, p99 and the ratio of means.
            Target: the sandbox adds under 1 ms per update (p50) on the 500-node document.
  burst     the same updates arriving all at once (many editors typing): checked in batches, each
            room read back once per batch; the wall time per update against the in-process path.
  residual  docs/repro/pycrdt_forged_items.py through the sandbox, in fresh "app" processes: the
            updates the worker admits are applied in the app process (as the worker re-encoded
            them, as the server does; and, for comparison, the bytes received) and read back as
            the repro does. Counts the worker deaths (crashes survived) and the app processes that died anyway
            (memory corruption the worker survived but the app tripped over).

    .venv/bin/python -m bench.collab_sandbox [--quick]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from pycrdt import Doc, Map

from bench.common import Options, Summary, main, now, percentile, ratio, show, stats, us
from bench.compile_graph import big_graph
from backend.collab.convert import doc_from_graph
from backend.collab.limits import check_update
from backend.collab.sandbox import Sandbox
from backend.seed import welcome_graph

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.001

_APP = """
import asyncio, importlib.util, sys
sys.path.insert(0, {root!r})
from pycrdt import Doc, Map
from backend.collab.limits import UpdateRefused
from backend.collab.sandbox import Sandbox
spec = importlib.util.spec_from_file_location("repro", {repro!r})
repro = importlib.util.module_from_spec(spec); spec.loader.exec_module(repro)

async def run():
    box = Sandbox(workers=1)
    await box.start()
    doc = Doc()
    doc.apply_update(bytes.fromhex(repro.BASE))
    for update in map(bytes.fromhex, repro.UPDATES):
        try:
            change = await box.check("room", update, doc.get_update, list)
        except UpdateRefused:
            continue
        doc.apply_update(update if {raw} else change)
    for name in ("meta", "nodes", "edges", "notes"):
        str(doc.get(name, type=Map))
    doc.get_update()
    print(box.deaths)
    await box.stop()

asyncio.run(run())
"""


def _typing(doc: Doc, n: int) -> list[bytes]:
    """n updates from another client: the start node's label typed one character at a time."""
    client = Doc()
    client.apply_update(doc.get_update())
    node = client.get("nodes", type=Map)["start"]
    updates = []
    for i in range(n):
        before = client.get_state()
        node["label"] = "typed " + "x" * i
        updates.append(client.get_update(before))
    return updates


async def _admit(doc: Doc, updates: list[bytes], box: Sandbox | None, room: str = "") -> list[float]:
    times = []
    for update in updates:
        t0 = now()
        check_update(update)
        if box is not None:
            update = await box.check(room, update, doc.get_update, list)
        doc.apply_update(update)
        times.append(now() - t0)
    return times


def _residual(processes: int, raw: bool = False) -> tuple[int, int, int]:
    """(app processes, app processes that died, worker deaths among the survivors). `raw`: the app
    applies the bytes it received, not the worker's re-encoding of them (the comparison)."""
    code = _APP.format(root=str(ROOT), repro=str(ROOT / "docs" / "repro" / "pycrdt_forged_items.py"), raw=raw)
    died = deaths = 0
    for _ in range(processes):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if run.returncode != 0:
            died += 1
        else:
            deaths += int(run.stdout.split()[-1])
    return processes, died, deaths


async def bench(opts: Options) -> list[Summary]:
    n = 100 if opts.quick else 1000
    rows, burst_rows, summary = [], [], []
    box = Sandbox(workers=1)
    await box.start()
    try:
        for name, graph in (("welcome (6 nodes)", welcome_graph()), ("500 nodes", big_graph(500))):
            plain_doc, boxed_doc = doc_from_graph(graph), Doc()
            boxed_doc.apply_update(plain_doc.get_update())
            updates = _typing(plain_doc, n + 1)
            await _admit(boxed_doc, updates[:1], box, name)  # seeds the replica (once per room and worker)
            plain = stats(await _admit(plain_doc, updates[1:], None))
            boxed_times = await _admit(boxed_doc, updates[1:], box, name)
            boxed = stats(boxed_times)
            p50_plain = percentile(await _admit(doc_from_graph(graph), updates, None), 50)
            p50_boxed = percentile(boxed_times, 50)
            rows.append([name, us(plain.mean), us(boxed.mean), us(p50_plain), us(p50_boxed),
                         us(percentile(boxed_times, 99)), us(boxed.mean - plain.mean), ratio(boxed.mean, plain.mean)])
            if name == "500 nodes":
                met = p50_boxed - p50_plain < TARGET_S
                summary.append(Summary("collab_sandbox", "per update, 500-node doc (p50, sandboxed)", us(p50_boxed),
                                       f"in-process {us(p50_plain)}", ratio(boxed.mean, plain.mean),
                                       f"+< {us(TARGET_S)}", met))
            # burst: every update submitted at once; the room applies each as it is admitted
            burst_doc = Doc()
            burst_doc.apply_update(plain_doc.get_update())
            room = name + " burst"
            await _admit(burst_doc, updates[:1], box, room)
            fresh = _typing(burst_doc, n)
            t0 = now()
            for update in fresh:
                check_update(update)
            changes = await asyncio.gather(*(box.check(room, u, burst_doc.get_update, list) for u in fresh))
            for change in changes:
                burst_doc.apply_update(change)
            burst = (now() - t0) / n
            burst_rows.append([name, us(plain.mean), us(burst), ratio(burst, plain.mean)])
    finally:
        await box.stop()
    show(f"collab sandbox: {n} typed updates arriving at once (batches: {box.batches})",
         ["document", "mean in-process", "sandboxed, per update", "ratio"], burst_rows)
    show(f"collab sandbox: {n} typed updates admitted one after another",
         ["document", "mean in-process", "mean sandboxed", "p50 in-process", "p50 sandboxed", "p99 sandboxed",
          "added (mean)", "ratio (means)"], rows)
    processes, died, deaths = _residual(10 if opts.quick else 40)
    _, died_raw, deaths_raw = _residual(processes, raw=True)
    show("collab sandbox: the forged-items repro in fresh app processes",
         ["the app applies", "app processes", "app processes died", "worker deaths (crashes survived)"],
         [["the worker's re-encoding (the server)", processes, died, deaths],
          ["the bytes received (comparison)", processes, died_raw, deaths_raw]])
    summary.append(Summary("collab_sandbox", "repro: app processes died", f"{died} of {processes}",
                           f"worker deaths {deaths}", "-", "0", died == 0))
    return summary


if __name__ == "__main__":
    main(bench, __doc__ or "")
