"""trigger.rss: publishing registers a poller; the first poll records what the feed holds, each
later item starts exactly one run (also with two processes polling, and after a restart);
polls are conditional (ETag); a failed poll is recorded and visible, never raised."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from backend.db.models import utcnow
from backend.feeds.models import FeedPoller, FeedSeen
from backend.feeds.runtime import FeedRuntime
from tests.backend.triggers.conftest import published_workflow, runs_of, simple_graph, wait_for_runs


async def _feed_workflow(client, h, url: str, **config) -> str:
    return await published_workflow(client, h, simple_graph("trigger.rss", url=url, interval_s=30, **config))


async def _pollers(client, h, wf: str) -> list[dict]:
    r = await client.get(f"/api/workflows/{wf}/feeds", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


async def _inputs(client, h, runs: list[dict]) -> list[dict]:
    out = []
    for run in runs:
        r = await client.get(f"/api/runs/{run['id']}", headers=h)
        out.append(r.json()["input"])
    return out


async def test_new_items_start_one_run_each_and_a_restart_keeps_the_seen_set(app, client, tenant_a, feed):
    """The first poll fires nothing; items added between polls start one run each, with the item as payload."""
    h = tenant_a.editor.headers
    feed.add(1), feed.add(2)
    wf = await _feed_workflow(client, h, feed.url)
    [poller] = await _pollers(client, h, wf)
    assert poller["kind"] == "rss" and poller["config"]["url"] == feed.url and poller["last_error"] is None

    runtime, t0 = app.state.feeds, utcnow()
    assert await runtime.tick(t0) == []
    assert await runtime.tick(t0) == []            # not due again before interval_s
    assert len(feed.requests) == 1

    feed.add(3)
    [run_id] = await runtime.tick(t0 + timedelta(seconds=31))
    feed.add(4), feed.add(5)
    started = await runtime.tick(t0 + timedelta(seconds=62))
    assert len(started) == 2
    runs = await wait_for_runs(client, h, wf, 3)
    inputs = {i["title"]: i for i in await _inputs(client, h, runs)}
    assert set(inputs) == {"Item 3", "Item 4", "Item 5"}
    item = inputs["Item 3"]
    assert item["id"] == "urn:item:3" and item["link"] == "https://example.org/3"
    assert item["summary"] == "Summary of item 3" and item["published"] == "2026-01-01T03:00:00Z"
    assert item["author"] and item["feed"]["title"] == "Test feed"
    assert all(r["trigger"] == "rss" and r["status"] == "succeeded" for r in runs)

    # A restart: a new runtime (another process) sees the same seen set and the same ETag.
    await runtime.stop()
    restarted = FeedRuntime(app.state)
    assert await restarted.tick(t0 + timedelta(seconds=93)) == []
    assert feed.requests[-1].get("if-none-match") and feed.not_modified == 1
    feed.add(6)
    assert len(await restarted.tick(t0 + timedelta(seconds=124))) == 1
    assert len(await wait_for_runs(client, h, wf, 4)) == 4
    [poller] = await _pollers(client, h, wf)
    assert poller["last_run_id"] and poller["last_error"] is None


async def test_two_processes_polling_at_once_fire_an_item_once(app, client, tenant_a, feed):
    """Two runtimes ticking at the same moment claim the poll once, so a new item starts one run."""
    h = tenant_a.editor.headers
    feed.add(1)
    wf = await _feed_workflow(client, h, feed.url)
    t0 = utcnow()
    await app.state.feeds.tick(t0)
    feed.add(2)
    a, b = FeedRuntime(app.state), FeedRuntime(app.state)
    results = await asyncio.gather(*(r.tick(t0 + timedelta(seconds=31)) for r in (a, b, a, b)))
    assert sum(len(r) for r in results) == 1
    assert len(await wait_for_runs(client, h, wf, 1)) == 1


async def test_fire_on_existing_starts_runs_for_the_first_poll(app, client, tenant_a, feed):
    """With fire_on_existing the items already in the feed start runs at the first poll, oldest first."""
    h = tenant_a.editor.headers
    feed.add(1), feed.add(2)
    wf = await _feed_workflow(client, h, feed.url, fire_on_existing=True)
    assert len(await app.state.feeds.tick(utcnow())) == 2
    runs = await wait_for_runs(client, h, wf, 2)
    assert sorted(i["title"] for i in await _inputs(client, h, runs)) == ["Item 1", "Item 2"]


async def test_poll_errors_are_recorded_and_cleared(app, client, tenant_a, feed):
    """A 500, a page that is no feed and a private address each leave a clear last_error; a good poll clears it."""
    h = tenant_a.editor.headers
    wf = await _feed_workflow(client, h, feed.url)
    t0 = utcnow()
    feed.status = 500
    assert await app.state.feeds.tick(t0) == []
    [poller] = await _pollers(client, h, wf)
    assert "answered 500" in poller["last_error"]

    feed.status, feed.body = 200, b"<html><body>not a feed</body></html"
    await app.state.feeds.tick(t0 + timedelta(seconds=31))
    [poller] = await _pollers(client, h, wf)
    assert "is not an RSS or Atom feed" in poller["last_error"]

    feed.body = None
    feed.add(1)
    await app.state.feeds.tick(t0 + timedelta(seconds=62))
    [poller] = await _pollers(client, h, wf)
    assert poller["last_error"] is None
    assert await runs_of(client, h, wf) == []      # the first good poll only records

    blocked = await _feed_workflow(client, h, "http://10.1.2.3/feed.xml")
    await app.state.feeds.tick(t0 + timedelta(seconds=93))
    [poller] = await _pollers(client, h, blocked)
    assert "private or reserved address" in poller["last_error"]


async def test_unpublishing_stops_the_poller_and_publishing_starts_it_again(app, client, tenant_a, feed):
    """An unpublished workflow's feed is not polled; the next publish polls it again, its seen set kept."""
    h = tenant_a.editor.headers
    feed.add(1)
    wf = await _feed_workflow(client, h, feed.url)
    t0 = utcnow()
    await app.state.feeds.tick(t0)
    assert (await client.post(f"/api/workflows/{wf}/unpublish", headers=h)).status_code == 200
    [poller] = await _pollers(client, h, wf)
    assert poller["enabled"] is False
    before = len(feed.requests)
    feed.add(2)
    assert await app.state.feeds.tick(t0 + timedelta(seconds=31)) == []
    assert len(feed.requests) == before

    assert (await client.post(f"/api/workflows/{wf}/publish", json={}, headers=h)).status_code == 201
    [poller] = await _pollers(client, h, wf)
    assert poller["enabled"] is True and poller["version"] == 2
    assert len(await app.state.feeds.tick(t0 + timedelta(seconds=62))) == 1   # item 2 only: item 1 stays seen
    [run] = await wait_for_runs(client, h, wf, 1)
    assert (await _inputs(client, h, [run]))[0]["title"] == "Item 2"


async def test_publishing_without_the_node_or_deleting_stops_the_poller(app, client, tenant_a, feed):
    """Republishing a graph without the trigger removes its poller; deleting the workflow disables it."""
    h = tenant_a.editor.headers
    wf = await _feed_workflow(client, h, feed.url)
    await app.state.feeds.tick(utcnow())
    r = await client.put(f"/api/workflows/{wf}", json={"graph": simple_graph()}, headers=h)
    assert r.status_code == 200, r.text
    assert (await client.post(f"/api/workflows/{wf}/publish", json={}, headers=h)).status_code == 201
    assert await _pollers(client, h, wf) == []
    async with app.state.db.sessionmaker() as s:   # its seen items went with it
        assert await s.scalar(select(func.count()).select_from(FeedSeen).where(FeedSeen.workflow_id == wf)) == 0

    other = await _feed_workflow(client, h, feed.url)
    assert (await client.delete(f"/api/workflows/{other}", headers=h)).status_code == 204
    async with app.state.db.sessionmaker() as s:
        poller = await s.scalar(select(FeedPoller).where(FeedPoller.workflow_id == other))
        assert poller is not None and poller.enabled is False
    before = len(feed.requests)
    await app.state.feeds.tick(utcnow() + timedelta(seconds=31))
    assert len(feed.requests) == before


async def test_feeds_of_another_tenant_are_not_found(client, tenant_a, tenant_b, feed):
    """Another tenant's workflow answers 404 for its pollers."""
    wf = await _feed_workflow(client, tenant_a.editor.headers, feed.url)
    r = await client.get(f"/api/workflows/{wf}/feeds", headers=tenant_b.editor.headers)
    assert r.status_code == 404
