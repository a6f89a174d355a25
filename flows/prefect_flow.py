"""A run as a Prefect flow: the compiled plan runs inside one Prefect flow run, and each
durable node (side effects or long waits) is a Prefect task with Prefect's retries and state.

Cheap pure nodes stay inline in the flow (fused): a Prefect task costs about 5.5 ms and
the server records only about 30 task runs per second on this machine, so a task per
`data.set` would make a 100-node chain twenty times slower for no durability gained.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flows.compile import Plan, PlanNode
from flows.engine import Attempt, Emitter, Engine, RunOutcome
from nodes.sdk import NodeTemporaryError


def _leave_sigterm_to_the_host() -> None:
    """Prefect's flow engine swaps the process's SIGTERM handler for one that raises
    TerminationSignal wherever the main thread is (prefect.utilities.engine.capture_sigterm),
    meant for a process that runs one flow. Here flows run concurrently inside the app (or a
    worker), so a SIGTERM under load skipped uvicorn's graceful shutdown: the exception tore
    the event loop down, the runs were ended `cancelled`, and Prefect's exit hook then waited
    about 7 s per undeliverable event (over 30 s measured). The host process owns SIGTERM."""
    import prefect.flow_engine

    prefect.flow_engine.capture_sigterm = contextlib.nullcontext  # type: ignore[assignment]


def _retry_on_temporary(task: Any, task_run: Any, state: Any) -> bool:
    # Prefect hands the failed state; its data is the exception the attempt raised.
    # Only temporary failures (timeouts, 429, 5xx) are retried: a user's mistake never is.
    return isinstance(getattr(state, "data", None), NodeTemporaryError)


async def _durable_task(node: PlanNode, iteration: int | None, attempt: Attempt, delays: list[float]) -> dict[str, Any]:
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    count = 0

    async def one_attempt() -> dict[str, Any]:
        nonlocal count
        count += 1
        return await attempt(count)

    name = node.id if iteration is None else f"{node.id}[{iteration}]"
    prefect_task = task(
        one_attempt,
        name=node.type.spec.type,
        task_run_name=name,
        retries=len(delays),
        retry_delay_seconds=delays or 0,
        retry_condition_fn=_retry_on_temporary,
        persist_result=False,
        cache_policy=NO_CACHE,
        log_prints=False,
    )
    return await prefect_task()


async def run_as_prefect_flow(engine: Engine, plan: Plan, run_id: str, payload: Any, emit: Emitter,
                              *, api_url: str, tenant_id: str = "", meta: dict[str, Any] | None = None,
                              started: dict[str, Any] | None = None, **engine_kw: Any) -> RunOutcome:
    """Run the plan inside a Prefect flow run against the Prefect API at api_url. A resumed
    run (engine_kw: reuse, waiting) is a new flow run of the same run id."""
    from prefect import flow
    from prefect.runtime import flow_run
    from prefect.settings import PREFECT_API_URL, temporary_settings

    _leave_sigterm_to_the_host()
    outcome: RunOutcome | None = None

    async def body() -> None:
        nonlocal outcome
        outcome = await engine.run(plan, run_id, payload, emit, tenant_id=tenant_id, meta=meta,
                                   durable=_durable_task, **engine_kw,
                                   started={**(started or {}), "prefect_flow_run_id": str(flow_run.id)})
        if outcome.status == "failed":
            # the flow run's state in Prefect's UI matches ours
            raise RuntimeError(f"run failed at node {outcome.error and outcome.error.get('node_id')}")

    prefect_flow = flow(body, name=f"maily-{plan.name}"[:100] or "maily-run", flow_run_name=run_id,
                        persist_result=False, validate_parameters=False, log_prints=False, retries=0)
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        await prefect_flow(return_state=True)
    assert outcome is not None, "the Prefect flow ended without running the plan"
    return outcome
