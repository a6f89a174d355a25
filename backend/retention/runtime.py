"""The background job that applies every workspace's retention policy: every
`retention_interval_s` it prunes each workspace in batches (backend/retention/services.py).
Several app processes may run it at once: deleting what another one deleted is a no-op."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Litestar

from backend.periodic import Periodic
from backend.retention.services import prune_all

log = logging.getLogger("maily.retention")


class Pruner(Periodic):
    name, failure = "maily-retention", "retention pass failed"
    wait_first = True   # a process that only starts and stops prunes nothing

    def __init__(self, state: Any, *, interval_s: float, batch: int) -> None:
        super().__init__(interval_s, log)
        self.state, self.batch = state, batch

    async def tick(self) -> int:
        """One pass over every workspace; returns how many runs went."""
        reports = await prune_all(self.state.db, batch=self.batch)
        gone = sum(r.runs for r in reports.values())
        if gone:
            log.info("retention pruned %d run(s): %s", gone, {k: r.runs for k, r in reports.items() if r.runs})
        return gone


async def start_retention(app: Litestar) -> None:
    settings = app.state.settings
    app.state.pruner = Pruner(app.state, interval_s=settings.retention_interval_s, batch=settings.retention_batch)
    if settings.retention_enabled:
        app.state.pruner.start()


async def stop_retention(app: Litestar) -> None:
    pruner: Pruner | None = getattr(app.state, "pruner", None)
    if pruner is not None:
        await pruner.stop()
