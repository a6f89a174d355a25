"""The Prefect task a production run is (`execute_run`) and `enqueue`, the app's way to create one.

Its own module so the two sides need not import each other: the app (backend/runs/remote.py)
enqueues without importing the worker, and the worker (backend/runs/worker.py) serves this task,
which hands each delivery to the RunWorker it registered with `serving(worker)`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Protocol

from prefect import task

TASK_NAME = "maily.execute_run"


class Executor(Protocol):
    async def execute(self, run_id: str, source: str = "prefect") -> str: ...


_current: Executor | None = None


@contextmanager
def serving(executor: Executor) -> Iterator[None]:
    """While inside, deliveries of execute_run in this process go to `executor` (the worker's RunWorker)."""
    global _current
    _current = executor
    try:
        yield
    finally:
        _current = None


async def _execute_run() -> str:
    """The Prefect task: the run id is the task run's name (no parameters, nothing stored)."""
    from prefect.runtime import task_run

    if _current is None:
        raise RuntimeError("execute_run runs only inside `maily worker`")
    return await _current.execute(str(task_run.name).rsplit(":", 1)[-1], source="prefect")


# No cache key: every delivery executes (the task worker would otherwise cache by inputs,
# and a task without inputs would hit the same cache entry for every run).
execute_run = task(_execute_run, name=TASK_NAME, cache_key_fn=lambda *_: None, retries=0, log_prints=False)


async def enqueue(run_id: str) -> str:
    """Create the Prefect task run a task worker picks up.

    `Task.delay()` is the same call made synchronous (run_coro_as_sync); called from many
    threads at once it deadlocks here, so the app awaits the coroutine under it instead."""
    # a parameterless task run named after the run (the name is all a deferred run carries
    # without parameter storage); the task key, which routes it to workers, stays the same
    task_run = await execute_run.with_options(name=f"{TASK_NAME}:{run_id}").create_run(parameters={}, deferred=True)
    return str(task_run.id)
