"""Wires the run machinery into the app: event bus, database recorder, Prefect API, run manager."""

from __future__ import annotations

import asyncio
import functools
import logging

from litestar import Litestar

from backend.db.embedded import create_database, prefect_database_url
from backend.metrics import MetricsSink
from backend.runs.control import Resumer
from backend.runs.instances import Instance
from backend.runs.node_services import close_node_services, node_services
from backend.runs.recovery import end_prefect_flow_runs, resume_interrupted
from backend.runs.fanout import RunFollower
from backend.runs.remote import RedisPublisher, RemoteRuns, RetryingRecorder
from backend.runs.services import note_prefect_flow_run
from backend.runs.subworkflows import DbChildRuns
from backend.settings import Settings
from flows.events import EventBus
from flows.prefect_server import PrefectApi
from flows.runner import RunManager

log = logging.getLogger("maily.runs")


async def start_runs(app: Litestar) -> None:
    settings: Settings = app.state.settings
    app.state.bus = EventBus()
    app.state.recorder = RetryingRecorder(app.state.db)   # survives dropped database connections
    remote = None
    if settings.mode == "production":    # runs execute on `maily worker`s (backend/runs/remote.py)
        remote = RemoteRuns(settings.redis_url, app.state.bus, app.state.recorder)
        await remote.start()
    prefect = None if settings.prefect == "never" else PrefectApi(
        settings.data_dir, settings.mode, health_s=settings.prefect_health_s, wait_s=settings.prefect_wait_s,
        database_url=prefect_database_url(app.state.db.url), prepare_database=create_database)
    if prefect is not None and settings.prefect_at_start:
        prefect.start_in_background()   # the first durable run should not wait for it to boot
    children = DbChildRuns(app.state, max_depth=settings.subworkflow_max_depth)   # flow.subworkflow
    services_ = node_services(settings, subworkflows=children)
    app.state.ai = services_.nodes.ai   # the API's health and credential endpoints use the same gateway
    app.state.mailer = services_.nodes.mailer   # owns the email/certify database engine: closed at stop
    app.state.node_services = services_
    sinks = [app.state.bus, app.state.recorder, MetricsSink()]
    if settings.redis_url:   # run-event sockets on any replica follow runs executing anywhere (backend/runs/fanout.py)
        app.state.run_follower = RunFollower(settings.redis_url)
        if settings.mode != "production":   # production: the workers publish
            app.state.run_publisher = RedisPublisher(app.state.run_follower.redis, app.state.recorder)
            sinks.append(app.state.run_publisher)
    app.state.runner = RunManager(sinks=sinks, services=services_,
                                  prefect=prefect, prefect_mode=settings.prefect,
                                  max_concurrent_per_tenant=settings.tenant_max_concurrent_runs, remote=remote,
                                  prefect_max_flow_runs=settings.prefect_max_flow_runs,
                                  max_running=settings.max_running_runs,
                                  on_prefect_flow_run=functools.partial(note_prefect_flow_run, app.state.db))
    children.runner = app.state.runner
    app.state.resumer = Resumer(app.state, settings.resume_poll_s)   # suspended runs whose time has come
    app.state.resumer.start()
    if settings.mode != "production":   # production: workers own the runs, their sweep resumes orphans
        app.state.instance = Instance(app.state.db)
        await app.state.instance.start(sweep=lambda: _recover(app, prefect))   # a replica that died
        await _recover(app, prefect)


async def _recover(app: Litestar, prefect: PrefectApi | None) -> None:
    """Runs the last process left queued or running continue (backend/runs/recovery.py); the
    Prefect flow runs of their interrupted passes are ended in the background."""
    resumed, flow_runs = await resume_interrupted(app.state)
    if resumed:
        log.warning("%d run(s) interrupted by the last stop were resumed", resumed)
    if flow_runs and prefect is not None:
        app.state.prefect_cleanup = asyncio.get_running_loop().create_task(
            end_prefect_flow_runs(prefect, flow_runs), name="prefect-cleanup")


async def stop_runs(app: Litestar) -> None:
    cleanup = getattr(app.state, "prefect_cleanup", None)
    if cleanup is not None and not cleanup.done():
        cleanup.cancel()
    resumer = getattr(app.state, "resumer", None)
    if resumer is not None:
        await resumer.stop()
    runner: RunManager | None = getattr(app.state, "runner", None)
    if runner is not None:
        await runner.shutdown()
        await app.state.recorder.stop()
    follower = getattr(app.state, "run_follower", None)
    if follower is not None:   # after the runner: its last events are published
        publisher = getattr(app.state, "run_publisher", None)
        if publisher is not None:
            await publisher.flush()
        await follower.close()
    instance = getattr(app.state, "instance", None)
    if instance is not None:   # after the runner: its runs are left for the next start, or a live replica
        await instance.stop()
    node_services_ = getattr(app.state, "node_services", None)
    if node_services_ is not None:
        await close_node_services(node_services_)
