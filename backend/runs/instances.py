"""Which app processes are alive, so start-up recovery (backend/runs/recovery.py) takes only
the runs of processes that are gone, never those a live replica on the same database is running.

Each app process registers a row in `app_instances` (host, pid) at start, refreshes its
heartbeat every HEARTBEAT_S, and deletes it at a clean stop. Every run it queues or claims
carries its id in `runs.owner_instance`. A run's owner is gone when:
- its row is missing (the owner stopped cleanly, or the run predates owners);
- it ran on this host and its pid is no longer alive, or is this very process under another
  instance id (a restarted container often gets the same pid);
- it ran on another host and its heartbeat is older than STALE_S.
A live app also sweeps every SWEEP_S for runs whose owner is gone (a replica that died).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from backend.db.models import utcnow
from backend.runs.models import AppInstance
from flows.pids import pid_alive

log = logging.getLogger("maily.runs.instances")

HEARTBEAT_S = 5.0
STALE_S = 30.0
SWEEP_S = 30.0

_LOCAL: set[str] = set()   # the instances of this process (tests run several apps in one process)
_current: str | None = None


def current() -> str | None:
    """The id runs queued or claimed in this process are marked with."""
    return _current


def is_gone(row: AppInstance | None, owner: str | None, now: Any) -> bool:
    """True when the owner of a run is no longer running it (see the module docstring)."""
    if owner in _LOCAL:
        return False
    if owner is None or row is None:
        return True
    if row.host == socket.gethostname():
        return row.pid == os.getpid() or not pid_alive(row.pid)
    return row.heartbeat_at < now - timedelta(seconds=STALE_S)


async def gone_owners(s: Any, owners: set[str | None]) -> set[str | None]:
    """Of the given owner ids (None: no owner), those whose process is gone."""
    ids = [o for o in owners if o is not None]
    rows = {r.id: r for r in await s.scalars(select(AppInstance).where(AppInstance.id.in_(ids)))} if ids else {}
    now = utcnow()
    return {o for o in owners if is_gone(rows.get(o) if o else None, o, now)}


class Instance:
    """This process's row in app_instances and its heartbeat."""

    def __init__(self, db: Any):
        self.db = db
        self.id = uuid.uuid4().hex
        self._task: asyncio.Task[None] | None = None

    async def start(self, sweep: Any = None) -> None:
        global _current
        async with self.db.sessionmaker() as s:
            s.add(AppInstance(id=self.id, host=socket.gethostname()[:255], pid=os.getpid()))
            await s.commit()
        _LOCAL.add(self.id)
        _current = self.id
        self._task = asyncio.get_running_loop().create_task(self._beat(sweep), name="app-instance-heartbeat")

    async def _beat(self, sweep: Any) -> None:
        since_sweep = 0.0
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                async with self.db.sessionmaker() as s:
                    await s.execute(update(AppInstance).where(AppInstance.id == self.id).values(heartbeat_at=utcnow()))
                    await s.commit()
                since_sweep += HEARTBEAT_S
                if sweep is not None and since_sweep >= SWEEP_S:
                    since_sweep = 0.0
                    await sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not end the heartbeat
                log.warning("app instance heartbeat: %s", type(exc).__name__)

    async def stop(self) -> None:
        global _current
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        _LOCAL.discard(self.id)
        if _current == self.id:
            _current = next(iter(_LOCAL), None)
        with contextlib.suppress(Exception):   # the database may be gone at shutdown
            async with self.db.sessionmaker() as s:
                await s.execute(delete(AppInstance).where(AppInstance.id == self.id))
                await s.commit()
