"""A run as a Prefect flow: the compiled plan runs inside one Prefect flow run, and each
durable node (side effects or long waits) is a Prefect task with Prefect's retries and state.

Cheap pure nodes stay inline in the flow (fused): a Prefect task costs about 5.5 ms and
the server records only about 30 task runs per second on this machine, so a task per
`data.set` would make a 100-node chain twenty times slower for no durability gained.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from flows.compile import Plan, PlanNode
from flows.engine import Attempt, Emitter, Engine, RunOutcome
from flows.prefect_clients import SharedPrefectClients, is_temporary_prefect_failure
from nodes.sdk import NodeTemporaryError

log = logging.getLogger("maily.runs")


def _leave_sigterm_to_the_host() -> None:
    """Prefect's flow engine swaps the process's SIGTERM handler for one that raises
    TerminationSignal wherever the main thread is (prefect.utilities.engine.capture_sigterm),
    meant for a process that runs one flow. Here flows run concurrently inside the app (or a
    worker), so a SIGTERM under load skipped uvicorn's graceful shutdown: the exception tore
    the event loop down, the runs were ended `cancelled`, and Prefect's exit hook then waited
    about 7 s per undeliverable event (over 30 s measured). The host process owns SIGTERM."""
    import prefect.flow_engine

    prefect.flow_engine.capture_sigterm = contextlib.nullcontext  # type: ignore[assignment]


ORCHESTRATOR_TRIES = 5   # per node, on top of Prefect's own client retries of a 503


class OrchestratorBusy(NodeTemporaryError):
    """Prefect's API stayed busy or unreachable around a node: a temporary failure of our
    infrastructure, never the user's mistake nor a bug."""

    kind = "infrastructure"


def _retry_on_temporary(task: Any, task_run: Any, state: Any) -> bool:
    # Prefect hands the failed state; its data is the exception the attempt raised.
    # Only temporary failures (timeouts, 429, 5xx) are retried: a user's mistake never is.
    return isinstance(getattr(state, "data", None), NodeTemporaryError)


async def _durable_task(node: PlanNode, iteration: int | None, attempt: Attempt, delays: list[float]) -> dict[str, Any]:
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    count = 0
    done: list[dict[str, Any]] = []
    ours: list[BaseException] = []

    async def one_attempt() -> dict[str, Any]:
        nonlocal count
        if done:   # Prefect lost the record of an attempt that finished: never run it (send) twice
            return done[0]
        count += 1
        try:
            out = await attempt(count)
        except BaseException as exc:
            ours.append(exc)
            raise
        done.append(out)
        return out

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
    for tries in range(1, ORCHESTRATOR_TRIES + 1):
        try:
            return await prefect_task()
        except Exception as exc:
            # the node's own failure (classified by the engine), or Prefect's API failing
            # around it: a busy server is waited for, the node's state proposed again
            if any(exc is e for e in ours) or not is_temporary_prefect_failure(exc):
                raise
            if tries == ORCHESTRATOR_TRIES:
                raise OrchestratorBusy(f"the orchestrator (Prefect) stayed unavailable: {exc}") from exc
            await asyncio.sleep(min(0.5 * 2 ** tries, 8.0))
    raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def _settings_for(api_url: str) -> Any:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        yield


async def run_as_prefect_flow(engine: Engine, plan: Plan, run_id: str, payload: Any, emit: Emitter,
                              *, api_url: str, tenant_id: str = "", meta: dict[str, Any] | None = None,
                              started: dict[str, Any] | None = None, clients: SharedPrefectClients | None = None,
                              **engine_kw: Any) -> RunOutcome:
    """Run the plan inside a Prefect flow run against the Prefect API at api_url. A resumed
    run (engine_kw: reuse, waiting) is a new flow run of the same run id. `clients`: the
    process's shared Prefect clients (flows/prefect_clients.py); without, Prefect builds its own."""
    from prefect import flow
    from prefect.runtime import flow_run
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
                        persist_result=False, validate_parameters=False, log_prints=False, retries=0,
                        result_storage=clients.result_storage if clients is not None else None)
    async with clients.use(api_url) if clients is not None else _settings_for(api_url):
        try:
            await prefect_flow(return_state=True)
        except Exception as exc:
            if outcome is None or not is_temporary_prefect_failure(exc):
                raise
            # our run ended and is recorded; only Prefect's record of its end was lost
            log.warning("run %s ended %s; Prefect could not record the end (%s)", run_id, outcome.status, exc)
    assert outcome is not None, "the Prefect flow ended without running the plan"
    return outcome
