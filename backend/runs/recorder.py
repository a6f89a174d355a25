"""Writes run events to the database: every event, every node run, the run's own row.

The engine emits synchronously from its scheduler; this sink queues and a background
task writes in batches (one transaction every `interval` seconds, or at once when a run
ends), so recording every node of 50 runs a second costs a few transactions, not hundreds.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, update

from backend.db.models import NodeRun, Run, RunEvent as RunEventRow
from backend.db.session import Database
from flows.events import PASS_END, RunEvent

log = logging.getLogger("maily.recorder")

_NODE_FIELDS = ("status", "attempts", "started_at", "finished_at", "input", "output", "error")


@dataclass
class _RunInfo:
    tenant_id: str
    node_types: dict[str, str]
    nodes: dict[tuple[str, int | None], dict[str, Any]] = field(default_factory=dict)


class DbRecorder:
    def __init__(self, db: Database, interval: float = 0.05):
        self.db = db
        self.interval = interval
        self._pending: list[RunEvent] = []
        self._runs: dict[str, _RunInfo] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def register(self, run_id: str, tenant_id: str, node_types: dict[str, str],
                 existing: list[dict[str, Any]] | None = None) -> None:
        """Called before the run is submitted: the recorder needs the tenant and node types.
        A resumed run hands in its node runs (`existing`, rows as dicts): they are updated,
        not inserted again."""
        info = self._runs[run_id] = _RunInfo(tenant_id, node_types)
        for row in existing or ():
            info.nodes[(row["node_id"], row["iteration"])] = {**row}

    def emit(self, event: RunEvent) -> None:
        if event.run_id not in self._runs:
            return  # a run not started through the API (CLI, tests): nothing to record
        self._pending.append(event)
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="run-recorder")
        if event.kind.startswith("run.") and event.status in PASS_END:
            self._wake.set()  # a finished run is written at once: its readers are waiting

    async def _loop(self) -> None:
        while self._pending:
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
            batch, self._pending = self._pending, []
            try:
                await self._write(batch)
            except Exception:  # keep recording the next batches; this one is logged
                log.exception("could not record %d run events", len(batch))
        self._idle.set()

    async def flush(self) -> None:
        """Wait until every event emitted so far is in the database."""
        if self._pending:
            self._wake.set()
        await self._idle.wait()

    async def stop(self) -> None:
        await self.flush()

    async def _write(self, batch: list[RunEvent]) -> None:
        events: list[dict[str, Any]] = []
        runs: dict[str, dict[str, Any]] = {}
        inserts: dict[tuple[str, tuple[str, int | None]], dict[str, Any]] = {}
        updates: dict[tuple[str, tuple[str, int | None]], dict[str, Any]] = {}
        finished: list[str] = []
        for ev in batch:
            info = self._runs[ev.run_id]
            events.append({"run_id": ev.run_id, "seq": ev.seq, "kind": ev.kind, "node_id": ev.node_id,
                           "at": ev.at, "data": ev.data})
            if ev.node_id is not None:
                key = (ev.node_id, ev.iteration)
                row = info.nodes.get(key)
                if row is None:
                    row = info.nodes[key] = {
                        "id": _new_id(), "run_id": ev.run_id, "tenant_id": info.tenant_id, "node_id": ev.node_id,
                        "node_type": info.node_types.get(ev.node_id, ""), "iteration": ev.iteration,
                        "status": "queued", "attempts": 0, "started_at": None, "finished_at": None,
                        "input": None, "output": None, "error": None}
                    inserts[(ev.run_id, key)] = row
                elif (ev.run_id, key) not in inserts:
                    updates[(ev.run_id, key)] = row
                _apply_node_event(row, ev)
            else:
                run = runs.setdefault(ev.run_id, {})
                _apply_run_event(run, ev)
                if ev.status in PASS_END:
                    finished.append(ev.run_id)
        # Core statements on the tables: no ORM identity map to synchronise, one executemany each.
        node_runs, run_table = NodeRun.__table__, Run.__table__
        async with self.db.engine.begin() as conn:
            if inserts:
                await conn.execute(insert(node_runs), list(inserts.values()))
            if updates:
                stmt = (update(node_runs).where(node_runs.c.id == bindparam("_id"))
                        .values({f: bindparam(f"_{f}") for f in _NODE_FIELDS}))
                await conn.execute(stmt, [{"_id": r["id"], **{f"_{f}": r[f] for f in _NODE_FIELDS}}
                                          for r in updates.values()])
            for run_id, values in runs.items():
                if values:
                    await conn.execute(update(run_table).where(run_table.c.id == run_id).values(**values))
            await conn.execute(insert(RunEventRow.__table__), events)
        for run_id in finished:
            self._runs.pop(run_id, None)


def _apply_node_event(row: dict[str, Any], ev: RunEvent) -> None:
    status = ev.status
    if status == "started":
        row.update(status="running", attempts=1, started_at=ev.at, input=ev.data.get("input"), output=None,
                   error=None, finished_at=None)
    elif status == "reused":     # recorded as succeeded with its earlier output; attempts unchanged
        row.update(status="succeeded", output=ev.data.get("output"), error=None)
        row["finished_at"] = row["finished_at"] or ev.at
    elif status == "waiting":    # output: what it gives once its time has come (util.delay: its input)
        row.update(status="waiting", output=ev.data.get("output"), error=None)
        row["started_at"] = row["started_at"] or ev.at
    elif status == "retrying":
        row.update(attempts=ev.attempt or row["attempts"] + 1)
    else:
        row.update(status=status, finished_at=ev.at)
        if "output" in ev.data:
            row["output"] = ev.data["output"]
        if "error" in ev.data:
            row["error"] = ev.data["error"]


def _apply_run_event(values: dict[str, Any], ev: RunEvent) -> None:
    if ev.status == "started":
        values.update(status="running", resume_at=None, waiting_on=None, finished_at=None)
        if not ev.data.get("resumed"):     # a resumed run keeps when it first started
            values["started_at"] = ev.at
        if ev.data.get("prefect_flow_run_id"):
            values["prefect_flow_run_id"] = ev.data["prefect_flow_run_id"]
    elif ev.status == "waiting":
        resume_at = ev.data.get("resume_at")
        values.update(status="waiting", waiting_on=ev.data.get("waiting") or [],
                      resume_at=datetime.fromisoformat(resume_at) if resume_at else None)
    elif ev.status == "paused":
        values.update(status="paused")
    elif ev.status in PASS_END:
        values.update(status=ev.status, finished_at=ev.at)
        if "output" in ev.data:
            values["output"] = ev.data["output"]
        if "error" in ev.data:
            values["error"] = ev.data["error"]


def _new_id() -> str:
    return uuid.uuid4().hex
