"""flow.subworkflow on `maily worker`: a child run executes on the worker that runs its parent.

The rules and the database records are the app's (backend/runs/subworkflows.py: DbChildRuns);
only the runner differs. In the app it is the RunManager; on a worker the child goes through
RunWorker.execute like any delivered run, so it holds its own lease, publishes its events to
Redis (the app's sockets follow it) and, if this worker dies, is swept and resumed by another
worker like any run. Waiting on it in the parent's process keeps cancellation simple: cancelling
the parent (the control channel cancels its task) cancels the child here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backend.runs.subworkflows import DbChildRuns
from flows.engine import RunOutcome

if TYPE_CHECKING:
    from backend.runs.worker import RunWorker


class StoredDrafts:
    """A worker has no live co-editing rooms: a draft child runs as last stored."""

    async def current_graph(self, s: Any, workflow_id: str, stored: dict[str, Any]) -> dict[str, Any]:
        return stored


@dataclass
class WorkerState:
    """What DbChildRuns reads from the app's state, as a worker has it."""
    db: Any
    registry: Any
    recorder: Any
    collab: StoredDrafts


class WorkerChildRunner:
    """The `runner` of ChildRuns on a worker: submit() executes the recorded child run here."""

    def __init__(self, worker: RunWorker, children: DbChildRuns) -> None:
        self.worker = worker
        self.children = children
        self.tasks: dict[str, asyncio.Task[RunOutcome]] = {}

    def submit(self, plan: Any, run_id: str, payload: Any, *, tenant_id: str, **_: Any) -> asyncio.Task[RunOutcome]:
        task = asyncio.get_running_loop().create_task(self._run(tenant_id, run_id), name=f"child:{run_id}")
        self.tasks[run_id] = task
        task.add_done_callback(lambda _: self.tasks.pop(run_id, None))
        return task

    async def _run(self, tenant_id: str, run_id: str) -> RunOutcome:
        await self.worker.execute(run_id, source="parent")
        # where it stands as recorded (execute flushed its events): the same reading a resumed call makes
        outcome = await self.children.outcome(tenant_id, run_id)
        return outcome or RunOutcome("failed", error={"kind": "bug", "message": f"child run {run_id} vanished"})

    async def cancel(self, run_id: str) -> None:
        task = self.tasks.get(run_id)
        # the child may still be loading: wait until its engine task exists (or it has ended)
        while task is not None and not task.done() and run_id not in self.worker.active:
            await asyncio.sleep(0.01)
        runner = self.worker.active.get(run_id)
        if runner is not None:
            runner.cancel()


def worker_child_runs(db: Any, registry: Any, max_depth: int) -> DbChildRuns:
    """The worker's sub-workflow service; attach_worker() gives it its runner once the worker exists."""
    state = WorkerState(db=db, registry=registry, recorder=None, collab=StoredDrafts())
    return DbChildRuns(state, max_depth=max_depth)


def attach_worker(children: DbChildRuns, worker: RunWorker) -> None:
    children.state.recorder = worker.recorder
    children.runner = WorkerChildRunner(worker, children)   # type: ignore[assignment]
