"""A run as a Prefect flow run: the plan runs on our engine at once, and its record in Prefect
(one flow run; a task run per durable node) is written beside it (flows/prefect_record.py).

Which nodes are Prefect task runs: the durable ones (side effects, long waits), as before;
cheap pure nodes are recorded in our database only (a task run per `data.set` would make the
Prefect server's task-run recorder the bottleneck for no durability gained). Every node's
retries, timeout and state are the engine's; the task runs record them (a retry is an
`AwaitingRetry` state, `run_count` the attempts). Prefect no longer drives the attempts, so
it can never run an email send twice (the outbox's key guards the rest: nodes/email).
The figures behind the choice are in docs/benchmarks.md, "Workflow runs through Prefect".
"""

from __future__ import annotations

from typing import Any

from flows.compile import Plan
from flows.engine import Emitter, Engine, RunOutcome
from flows.prefect_record import PrefectRecorder


async def run_as_prefect_flow(engine: Engine, plan: Plan, run_id: str, payload: Any, emit: Emitter, *,
                              recorder: PrefectRecorder, tenant_id: str = "", meta: dict[str, Any] | None = None,
                              **engine_kw: Any) -> RunOutcome:
    """Run the plan now, recorded in Prefect as a flow run as soon as the recorder gets to it.
    A resumed run (engine_kw: reuse, waiting) is a new flow run of the same run id."""
    emit.sinks = [*emit.sinks, recorder.follow(run_id, plan)]
    return await engine.run(plan, run_id, payload, emit, tenant_id=tenant_id, meta=meta, **engine_kw)
