"""FeedRuntime: the loop inside each app process that runs the polling triggers.

trigger.rss: every tick reads the enabled feed pollers whose `next_poll_at` has come and claims
each like the cron scheduler (`UPDATE ... SET next_poll_at = now + interval, revision =
revision + 1 WHERE id = :id AND revision = :seen`): only the process whose UPDATE changed the
row polls. A new item is claimed again by inserting its key into feed_seen_items (primary key),
in the transaction that records its run, so it starts exactly one run. The first poll of a feed
records what is there without firing (unless `fire_on_existing`).

trigger.imap: a mailbox is watched by one process at a time, holding a lease on the poller row
(watch.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from backend.db.models import utcnow
from backend.errors import ApiError
from backend.feeds import rss
from backend.feeds.models import FeedPoller, FeedSeen
from backend.feeds.watch import MailWatcher
from backend.periodic import Periodic
from backend.triggers.services import start_triggered_run
from nodes.errors import NodeError

log = logging.getLogger("maily.feeds")

SEEN_LIMIT = 2000    # item keys kept per workflow and feed (those still in the feed are always kept)
LEASE_S = 90.0       # an IMAP watcher renews its lease at least every LEASE_S / 3 seconds


class FeedRuntime(Periodic):
    name, failure = "maily-feeds", "feed poller tick failed"

    def __init__(self, state: Any, *, interval_s: float = 1.0, batch: int = 50, lease_s: float = LEASE_S) -> None:
        super().__init__(interval_s, log)
        self.state, self.batch, self.lease_s = state, batch, lease_s
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.watchers: dict[str, asyncio.Task[None]] = {}

    @property
    def http(self) -> Any:
        return self.state.node_services.http

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Poll the due feeds this process claims, start watchers for unwatched mailboxes; returns the runs started."""
        now = now or utcnow()
        async with self.state.db.sessionmaker() as s:
            due = list(await s.scalars(select(FeedPoller).where(FeedPoller.kind == "rss", FeedPoller.enabled.is_(True),
                                                                FeedPoller.next_poll_at <= now)
                                       .order_by(FeedPoller.next_poll_at).limit(self.batch)))
        results = await asyncio.gather(*(self.poll_feed(p, now) for p in due))
        await self._watch(now)
        return [run_id for started in results for run_id in started]

    # --- feeds ---------------------------------------------------------------------------

    async def poll_feed(self, p: FeedPoller, now: datetime) -> list[str]:
        interval = max(30, int((p.config or {}).get("interval_s") or 300))
        async with self.state.db.sessionmaker() as s:
            claimed = await s.execute(
                update(FeedPoller).where(FeedPoller.id == p.id, FeedPoller.revision == p.revision,
                                         FeedPoller.enabled.is_(True))
                .values(revision=p.revision + 1, next_poll_at=now + timedelta(seconds=interval), last_polled_at=now)
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                await s.rollback()
                return []   # another process polls it, or it was republished meanwhile
            await s.commit()
        revision, state = p.revision + 1, dict(p.state or {})
        url = str((p.config or {}).get("url") or "")
        started: list[str] = []
        error: str | None = None
        try:
            answer = await rss.fetch(self.http, url, state)
            if not answer.not_modified:
                error = await self._fire_new(p, url, answer.items, started, fire=bool(state.get("primed")))
                if error is None:   # a run that did not start: fetch the whole feed again next time
                    state.update(etag=answer.etag, last_modified=answer.last_modified, primed=True)
        except NodeError as exc:
            error = exc.message
        except Exception as exc:  # noqa: BLE001 - a poll never breaks the loop
            log.exception("feed poller %s (%s) failed", p.id, url)
            error = f"unexpected error: {type(exc).__name__}"
        if error:
            log.warning("feed poller %s of workflow %s: %s", p.id, p.workflow_id, error)
        values: dict[str, Any] = {"state": state, "last_error": error}
        if started:
            values["last_run_id"] = started[-1]
        async with self.state.db.sessionmaker() as s:
            await s.execute(update(FeedPoller).where(FeedPoller.id == p.id, FeedPoller.revision == revision)
                            .values(**values).execution_options(synchronize_session=False))
            await s.commit()
        return started

    async def _fire_new(self, p: FeedPoller, url: str, items: list[tuple[str, dict[str, Any]]],
                        started: list[str], *, fire: bool) -> str | None:
        """Record every item not seen yet; start a run for each when `fire` (or fire_on_existing). The error, if any."""
        fire = fire or bool((p.config or {}).get("fire_on_existing"))
        feed_key = rss.sha(url)
        for key, item in items:
            async with self.state.db.sessionmaker() as s:
                new = await s.execute(insert(FeedSeen).values(workflow_id=p.workflow_id, feed_key=feed_key,
                                                              item_key=key, seen_at=utcnow())
                                      .on_conflict_do_nothing().returning(FeedSeen.item_key))
                if new.first() is None:
                    await s.rollback()
                    continue
                if not fire:
                    await s.commit()
                    continue
                try:   # start_run commits the seen row with the run's row
                    run = await start_triggered_run(self.state, s, tenant_id=p.tenant_id, user_id=p.created_by,
                                                    workflow_id=p.workflow_id, source="published",
                                                    payload=item, trigger="rss")
                except ApiError as exc:
                    await s.rollback()
                    return f"could not start a run: {exc.detail}"
                started.append(run.id)
        await self._prune(p.workflow_id, feed_key, [k for k, _ in items])
        return None

    async def _prune(self, workflow_id: str, feed_key: str, current: list[str]) -> None:
        async with self.state.db.sessionmaker() as s:
            where = (FeedSeen.workflow_id == workflow_id, FeedSeen.feed_key == feed_key)
            cutoff = await s.scalar(select(FeedSeen.seen_at).where(*where).order_by(FeedSeen.seen_at.desc())
                                    .offset(SEEN_LIMIT).limit(1))
            if cutoff is not None:
                await s.execute(delete(FeedSeen).where(*where, FeedSeen.seen_at <= cutoff,
                                                       FeedSeen.item_key.not_in(current))
                                .execution_options(synchronize_session=False))
                await s.commit()

    # --- mailboxes -----------------------------------------------------------------------

    async def _watch(self, now: datetime) -> None:
        for pid in [pid for pid, task in self.watchers.items() if task.done()]:
            del self.watchers[pid]
        async with self.state.db.sessionmaker() as s:
            free = list(await s.scalars(select(FeedPoller).where(
                FeedPoller.kind == "imap", FeedPoller.enabled.is_(True),
                or_(FeedPoller.lease_until.is_(None), FeedPoller.lease_until < now, FeedPoller.lease_owner == self.owner))
                .limit(self.batch)))
        for p in free:
            if p.id in self.watchers:
                continue
            async with self.state.db.sessionmaker() as s:
                claimed = await s.execute(
                    update(FeedPoller).where(FeedPoller.id == p.id, FeedPoller.revision == p.revision,
                                             FeedPoller.enabled.is_(True))
                    .values(revision=p.revision + 1, lease_owner=self.owner,
                            lease_until=now + timedelta(seconds=self.lease_s))
                    .execution_options(synchronize_session=False))
                await s.commit()
            if claimed.rowcount == 1:
                watcher = MailWatcher(self, p, p.revision + 1)
                task = asyncio.get_running_loop().create_task(watcher.run(), name=f"imap-{p.id}")
                task.watcher = watcher   # type: ignore[attr-defined]
                self.watchers[p.id] = task

    async def stop(self) -> None:
        await super().stop()
        tasks = list(self.watchers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.watchers.clear()
        async with self.state.db.sessionmaker() as s:   # another process may take them over at once
            await s.execute(update(FeedPoller).where(FeedPoller.lease_owner == self.owner)
                            .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False))
            await s.commit()
