"""Pollers follow the published version: publishing registers one per trigger.rss / trigger.imap
node (and drops those whose node is gone), deleting the workflow stops them.

A node whose feed (url) or mailbox (credential, mailbox) is unchanged keeps its state, so
republishing does not fire old items again; every publish bumps the poller's `revision` and
clears its lease, so a running IMAP watcher stops and the next tick starts it with the new config."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import utcnow
from backend.feeds.models import FeedPoller, FeedSeen
from backend.feeds.rss import sha

POLLED = {"trigger.rss": "rss", "trigger.imap": "imap"}


def _identity(kind: str, config: dict[str, Any]) -> tuple[Any, ...]:
    if kind == "rss":
        return (kind, config.get("url"))
    return (kind, config.get("credential"), config.get("mailbox", "INBOX"))


async def sync_pollers(s: AsyncSession, *, tenant_id: str, workflow_id: str, user_id: str | None,
                       graph: dict[str, Any], version: int) -> None:
    """Make the workflow's pollers those of the trigger nodes of `graph` (the version just published)."""
    nodes = {n["id"]: n for n in graph.get("nodes") or [] if n.get("type") in POLLED and not n.get("disabled")}
    existing = {p.node_id: p for p in await s.scalars(select(FeedPoller).where(FeedPoller.workflow_id == workflow_id))}
    now = utcnow()
    for node_id, poller in existing.items():
        if node_id not in nodes:
            await s.delete(poller)
    for node_id, node in nodes.items():
        kind, config = POLLED[node["type"]], dict(node.get("config") or {})
        poller = existing.get(node_id)
        if poller is None:
            s.add(FeedPoller(tenant_id=tenant_id, workflow_id=workflow_id, node_id=node_id, kind=kind, config=config,
                             version=version, enabled=True, next_poll_at=now, revision=0, state={},
                             created_by=user_id, created_at=now, updated_at=now))
            continue
        if _identity(poller.kind, poller.config or {}) != _identity(kind, config):
            poller.state = {}
        poller.kind, poller.config, poller.version, poller.enabled = kind, config, version, True
        poller.revision = (poller.revision or 0) + 1
        poller.lease_owner = poller.lease_until = None
        poller.next_poll_at, poller.last_error, poller.updated_at = now, None, now
        poller.created_by = user_id
    feeds = [sha(str(n.get("config", {}).get("url"))) for n in nodes.values() if n["type"] == "trigger.rss"]
    await s.execute(delete(FeedSeen).where(FeedSeen.workflow_id == workflow_id, FeedSeen.feed_key.not_in(feeds))
                    .execution_options(synchronize_session=False))
    await s.flush()


async def stop_pollers(s: AsyncSession, workflow_id: str) -> None:
    """The workflow is gone (or no longer published): its pollers stop, their watchers with them."""
    await s.execute(update(FeedPoller).where(FeedPoller.workflow_id == workflow_id)
                    .values(enabled=False, revision=FeedPoller.revision + 1, lease_owner=None, lease_until=None,
                            updated_at=utcnow())
                    .execution_options(synchronize_session=False))
