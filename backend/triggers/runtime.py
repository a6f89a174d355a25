"""What fires triggers inside the app: the cron scheduler loop and the chain sink.

Scheduler: every `scheduler_interval_s` it reads enabled schedules whose `next_run_at` has
come, and claims each with `UPDATE schedules SET next_run_at = <next>, revision = revision + 1
WHERE id = :id AND revision = :seen`. Only the process whose UPDATE changed the row starts the
run, so any number of app processes (or two loops in one) fire a slot exactly once. Slots
missed while no app was running are not replayed one by one: the newest one fires once and
the schedule moves on to the next future time.

Chains: a listener on the app's EventBus (`EventBus.add_listener`); when a run of the deployed
workflow ends (a run of a published version, or one a trigger started), the chains out of its
workflow whose `on` has the run's status start their targets with trigger `workflow` and
payload {source_run_id, source_workflow_id, status, output, error, depth}. Test runs of the
draft started by hand fire no chain."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from litestar import Litestar
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend.db.models import Run, utcnow
from backend.errors import ApiError
from backend.feeds.runtime import FeedRuntime
from backend.periodic import Periodic
from backend.triggers.hooks import HookLimits
from backend.triggers.models import Chain, ChainFiring, Schedule
from backend.triggers.replay import ReplayGuard
from backend.triggers.services import start_triggered_run, upcoming
from flows.events import TERMINAL_RUN, RunEvent

log = logging.getLogger("maily.triggers")

# Runs a trigger started belong to the deployed workflow even when the trigger runs the draft
# (`source: "draft"`); a run started by hand is a test run unless it ran a published version.
DEPLOYED_TRIGGERS = frozenset({"webhook", "schedule", "workflow", "rss", "imap"})


class Scheduler(Periodic):
    name, failure = "maily-scheduler", "scheduler tick failed"

    def __init__(self, state: Any, *, interval_s: float = 1.0, batch: int = 100) -> None:
        super().__init__(interval_s, log)
        self.state, self.batch = state, batch

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Fire every due schedule this process manages to claim; returns the run ids started."""
        now = now or utcnow()
        db = self.state.db
        async with db.sessionmaker() as s:
            due = list(await s.scalars(select(Schedule).where(Schedule.enabled.is_(True), Schedule.next_run_at <= now)
                                       .order_by(Schedule.next_run_at).limit(self.batch)))
        started: list[str] = []
        for sch in due:
            run_id = await self._fire(sch, now)
            if run_id:
                started.append(run_id)
        return started

    async def _fire(self, sch: Schedule, now: datetime) -> str | None:
        slot = sch.next_run_at
        nxt = upcoming(sch, 1, max(now, slot) if slot else now)
        async with self.state.db.sessionmaker() as s:
            claimed = await s.execute(
                update(Schedule).where(Schedule.id == sch.id, Schedule.revision == sch.revision,
                                       Schedule.enabled.is_(True))
                .values(revision=sch.revision + 1, next_run_at=nxt[0] if nxt else None, last_run_at=slot)
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                await s.rollback()
                return None   # another scheduler fired it, or it was edited meanwhile
            await s.commit()
            run_id, error = None, None
            try:
                run = await start_triggered_run(self.state, s, tenant_id=sch.tenant_id, user_id=sch.created_by,
                                                workflow_id=sch.workflow_id, source=sch.source,
                                                payload=dict(sch.input or {}), trigger="schedule")
                run_id = run.id
            except ApiError as exc:
                await s.rollback()
                error = exc.detail
                log.warning("schedule %s of workflow %s did not start a run: %s", sch.id, sch.workflow_id, error)
            except Exception as exc:  # noqa: BLE001
                await s.rollback()
                error = f"unexpected error: {type(exc).__name__}"
                log.exception("schedule %s failed to start a run", sch.id)
            await s.execute(update(Schedule).where(Schedule.id == sch.id)
                            .values(last_run_id=run_id, last_error=error)
                            .execution_options(synchronize_session=False))
            await s.commit()
            return run_id


class ChainSink:
    """A run-event sink: emit() is called synchronously by the engine; the work is a task."""

    def __init__(self, state: Any, *, max_depth: int = 10) -> None:
        self.state, self.max_depth = state, max_depth
        self._tasks: set[asyncio.Task[None]] = set()

    def emit(self, event: RunEvent) -> None:
        if not (event.kind.startswith("run.") and event.status in TERMINAL_RUN):
            return
        task = asyncio.get_running_loop().create_task(self.fire(event.run_id, event.status, dict(event.data)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def fire(self, run_id: str, status: str, data: dict[str, Any]) -> list[str]:
        try:
            return await self._fire(run_id, status, data)
        except Exception:  # noqa: BLE001 - never let a chain break the engine's event flow
            log.exception("chains after run %s failed", run_id)
            return []

    async def _fire(self, run_id: str, status: str, data: dict[str, Any]) -> list[str]:
        async with self.state.db.sessionmaker() as s:
            run = await s.get(Run, run_id)
            if run is None or run.workflow_id is None:
                return []
            if run.workflow_version is None and run.trigger not in DEPLOYED_TRIGGERS:
                return []   # a test run of the draft (editor, API, CLI): chains follow deployed runs only
            chains = [c for c in await s.scalars(select(Chain).where(Chain.source_workflow_id == run.workflow_id,
                                                                     Chain.tenant_id == run.tenant_id))
                      if status in (c.on or ())]
            if not chains:
                return []
            depth = 1
            if run.trigger == "workflow" and isinstance(run.input, dict):
                depth = int(run.input.get("depth") or 0) + 1
            if depth > self.max_depth:
                log.warning("run %s: chain depth %d reached the limit of %d; %d chain(s) not followed",
                            run_id, depth - 1, self.max_depth, len(chains))
                return []
            payload = {"source_run_id": run.id, "source_workflow_id": run.workflow_id, "status": status,
                       "output": data.get("output"), "error": data.get("error"), "depth": depth}
            started = []
            for chain in chains:
                # Claim (chain, source run) first: in production mode every app process relays
                # every run's events, and only one of them may start the target.
                s.add(ChainFiring(chain_id=chain.id, source_run_id=run.id, tenant_id=run.tenant_id,
                                  created_at=utcnow()))
                try:
                    await s.commit()
                except IntegrityError:
                    await s.rollback()
                    continue
                target_id, error = None, None
                try:
                    target = await start_triggered_run(self.state, s, tenant_id=run.tenant_id,
                                                       user_id=chain.created_by, workflow_id=chain.target_workflow_id,
                                                       source=chain.source, payload=payload, trigger="workflow")
                    started.append(target_id := target.id)
                except ApiError as exc:
                    await s.rollback()
                    error = exc.detail
                    log.warning("chain %s (%s -> %s) did not start a run: %s", chain.id, chain.source_workflow_id,
                                chain.target_workflow_id, exc.detail)
                await s.execute(update(ChainFiring).where(ChainFiring.chain_id == chain.id,
                                                          ChainFiring.source_run_id == run.id)
                                .values(target_run_id=target_id, error=error)
                                .execution_options(synchronize_session=False))
                await s.commit()
            return started


async def start_triggers(app: Litestar) -> None:
    """After start_runs: the rate limiter, the chain sink on the run manager, the scheduler."""
    settings = app.state.settings
    app.state.trigger_limits = HookLimits(settings)
    app.state.webhook_replays = ReplayGuard(settings.redis_url)
    app.state.chains = ChainSink(app.state, max_depth=settings.chain_max_depth)
    # Listen on the app's EventBus: it sees every run's events, those of runs in this process
    # (it is one of the run manager's sinks) and, in production mode, those relayed from workers.
    app.state.chains_unlisten = app.state.bus.add_listener(app.state.chains.emit)
    app.state.scheduler = Scheduler(app.state, interval_s=settings.scheduler_interval_s)
    app.state.feeds = FeedRuntime(app.state, interval_s=settings.scheduler_interval_s)   # trigger.rss / trigger.imap
    if settings.scheduler_enabled:
        app.state.scheduler.start()
        app.state.feeds.start()


async def stop_triggers(app: Litestar) -> None:
    scheduler: Scheduler | None = getattr(app.state, "scheduler", None)
    if scheduler is not None:
        await scheduler.stop()
    feeds: FeedRuntime | None = getattr(app.state, "feeds", None)
    if feeds is not None:
        await feeds.stop()
    unlisten = getattr(app.state, "chains_unlisten", None)
    if unlisten is not None:
        unlisten()
    chains: ChainSink | None = getattr(app.state, "chains", None)
    if chains is not None:
        await asyncio.wait_for(chains.drain(), timeout=10)
    replays = getattr(app.state, "webhook_replays", None)
    if replays is not None:
        await replays.close()
