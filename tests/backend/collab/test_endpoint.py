"""WS /api/collab/{id} over a real uvicorn server, spoken to by pycrdt clients."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import pytest
import websockets
from pycrdt import Doc, Map

from backend.collab import store
from backend.collab.convert import graph_from_doc
from backend.collab.rooms import DEFAULT_COLOR
from backend.db.session import Database
from tests.backend.collab.yclient import YClient


def url(server: str, wf: dict, member, **extra) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"token": member.token, **extra}.items())
    return f"ws://{server}/api/collab/{wf['id']}?{query}"


def set_label(text: str):
    return lambda doc: doc.get("nodes", type=Map)["start"].__setitem__("label", text)


def label(client: YClient) -> str:
    return client.doc.get("nodes", type=Map)["start"]["label"]


async def eventually(check, timeout: float = 3.0) -> float:
    """Waits until check() is true; returns how long it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def stored_graph(db_url: str, workflow_id: str) -> dict:
    db = Database(db_url)
    try:
        async with db.sessionmaker() as s:
            return graph_from_doc(await store.load_doc(s, workflow_id))
    finally:
        await db.dispose()


async def test_two_clients_converge(live_server, workflow, tenant_a):
    """An edit by one editor reaches the other, and both hold the draft they were sent."""
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    b = await YClient(url(live_server, workflow, tenant_a.owner)).connect()
    assert graph_from_doc(a.doc)["nodes"] == sorted(workflow["graph"]["nodes"], key=lambda n: n["id"])
    a.edit(set_label("from a"))
    await eventually(lambda: label(b) == "from a")
    b.edit(lambda d: d.get("nodes", type=Map)["big"]["config"].__setitem__("note", "from b"))
    await eventually(lambda: graph_from_doc(a.doc) == graph_from_doc(b.doc) and
                     graph_from_doc(a.doc)["nodes"][0]["config"].get("note") == "from b")
    await a.close(), await b.close()


async def test_viewer_edits_are_dropped(live_server, workflow, tenant_a, http):
    """A viewer receives the document but cannot change it."""
    viewer = await YClient(url(live_server, workflow, tenant_a.viewer)).connect()
    editor = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    viewer.edit(lambda d: d.get("nodes", type=Map).pop("big"))
    await viewer.roundtrip()   # the server has handled (dropped) the viewer's edit
    editor.edit(set_label("legit"))
    await eventually(lambda: label(viewer) == "legit")  # the viewer still receives edits
    assert "big" in editor.doc.get("nodes", type=Map) and label(editor) == "legit"
    await viewer.close(), await editor.close()
    r = await http.get(f"/api/workflows/{workflow['id']}", headers=tenant_a.viewer.headers)
    assert next(n for n in r.json()["graph"]["nodes"] if n["id"] == "start")["label"] == "legit"
    assert any(n["id"] == "big" for n in r.json()["graph"]["nodes"])


async def _close_code(address: str, **kw) -> int:
    async with websockets.connect(address, **kw) as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        return ws.close_code


async def test_refusals_close_after_accept(live_server, workflow, tenant_a, tenant_b):
    """4401 without credentials, 4403 for a foreign Origin, 4404 for another tenant's or an unknown workflow."""
    base = f"ws://{live_server}/api/collab/{workflow['id']}"
    assert await _close_code(base) == 4401
    assert await _close_code(base + "?token=mf_wrong") == 4401
    assert await _close_code(url(live_server, workflow, tenant_a.editor), origin="https://evil.example") == 4403
    assert await _close_code(url(live_server, workflow, tenant_b.owner)) == 4404
    assert await _close_code(f"ws://{live_server}/api/collab/{'0' * 32}?token={tenant_a.editor.token}") == 4404


async def test_presence_of_people_in_the_room_is_sent_on_join(live_server, workflow, tenant_a):
    """Someone joining sees who is already there within a second, without asking."""
    ann, bob = tenant_a.editor, tenant_a.owner
    a = await YClient(url(live_server, workflow, ann), user={"id": ann.user_id, "name": "Ann"}).connect()
    await a.roundtrip()   # Ann's presence reached the room
    b = YClient(url(live_server, workflow, bob), user={"id": bob.user_id, "name": "Bøb"})
    await b.connect(wait_synced=False)
    assert await eventually(lambda: b.people() == {ann.user_id}, timeout=1.0) < 1.0
    await eventually(lambda: a.people() == {bob.user_id}, timeout=1.0)
    await a.close(), await b.close()


async def test_abruptly_disconnected_person_disappears_within_a_second(live_server, workflow, tenant_a):
    """A person whose TCP connection dies without a close frame leaves the others' awareness at once."""
    ann, bob = tenant_a.editor, tenant_a.owner
    a = await YClient(url(live_server, workflow, ann), user={"id": ann.user_id, "name": "Ann"}).connect()
    b = await YClient(url(live_server, workflow, bob), user={"id": bob.user_id, "name": "Bob"}).connect()
    await eventually(lambda: a.people() == {bob.user_id})
    b.abort()
    assert await eventually(lambda: a.people() == set(), timeout=1.0) < 1.0
    await a.close(), await b._stop_tasks()


async def test_last_second_edits_are_stored_when_the_room_closes(live_server, workflow, tenant_a, db_url, http):
    """Edits made right before the last person leaves are in the database once the room closes."""
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    for i in range(20):
        a.edit(set_label(f"edit {i}"))
    await a.close()
    await eventually(lambda: True)
    deadline = time.monotonic() + 3
    while True:
        graph = await stored_graph(db_url, workflow["id"])
        if next(n for n in graph["nodes"] if n["id"] == "start")["label"] == "edit 19" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert next(n for n in graph["nodes"] if n["id"] == "start")["label"] == "edit 19"
    r = await http.get(f"/api/workflows/{workflow['id']}", headers=tenant_a.editor.headers)
    assert next(n for n in r.json()["graph"]["nodes"] if n["id"] == "start")["label"] == "edit 19"


async def test_fifty_clients_join_a_new_room_at_once(live_server, workflow, tenant_a, app):
    """50 people opening a workflow together are all synced within 5 s, with no reconnects,
    and the database pool does not grow with them."""
    clients = [YClient(url(live_server, workflow, tenant_a.editor)) for _ in range(50)]
    start = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(c.connect(timeout=5) for c in clients)), 5)
    elapsed = time.monotonic() - start
    assert all(len(graph_from_doc(c.doc)["nodes"]) == 6 for c in clients) and elapsed < 5
    pool = app.state.db.engine.pool
    assert pool.checkedout() <= 2, pool.status()
    clients[0].edit(set_label("hello 49"))
    await eventually(lambda: all(label(c) == "hello 49" for c in clients))
    assert not any(c.closed.is_set() for c in clients)
    await asyncio.gather(*(c.close() for c in clients))


async def test_db_connections_do_not_grow_per_room(live_server, http, tenant_a, app):
    """Ten open rooms hold no database connection between writes."""
    from backend.seed import welcome_graph

    clients = []
    for i in range(10):
        r = await http.post("/api/workflows", json={"name": f"w{i}", "graph": welcome_graph()},
                              headers=tenant_a.editor.headers)
        clients.append(await YClient(url(live_server, r.json(), tenant_a.editor)).connect())
    for c in clients:
        c.edit(set_label("x"))
    for c in clients:
        await c.roundtrip()   # every room holds its edit
    await eventually(lambda: not any(r.pending for r in app.state.collab.rooms.values()), timeout=5)  # and wrote it
    assert len(app.state.collab.rooms) >= 10
    assert app.state.db.engine.pool.checkedout() <= 2
    await asyncio.gather(*(c.close() for c in clients))


async def test_compaction_keeps_the_whole_document(live_server, workflow, tenant_a, db_url, app):
    """Compaction folds the update rows into the state without losing anything: the document
    is the same, and a client with an old state vector still syncs."""
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    old = Doc()
    old.apply_update(a.doc.get_update())  # a client that goes offline now
    for i in range(5):
        a.edit(set_label(f"v{i}"))
    a.edit(lambda d: d.get("nodes", type=Map).pop("big"))
    await a.close()  # the room closes: flush, then compaction
    await eventually(lambda: workflow["id"] not in app.state.collab.rooms)
    db = Database(db_url)
    try:
        async with db.sessionmaker() as s:
            state, rows = await store.load(s, workflow["id"])
            assert rows == [] and state
            before = graph_from_doc(await store.load_doc(s, workflow["id"]))
        async with db.sessionmaker() as s, s.begin():
            assert await store.compact(s, workflow["id"], tenant_a.id) == 0
    finally:
        await db.dispose()
    assert before == graph_from_doc(a.doc)
    stale = await YClient(url(live_server, workflow, tenant_a.editor), doc=old).connect()
    await eventually(lambda: graph_from_doc(stale.doc) == before)
    await stale.close()


async def _member_named(db, tenant_id: str, name: str, role: str = "editor"):
    """A new member of the tenant with this display name, and an API token."""
    from backend.auth import services as auth
    from tests.backend.conftest import Member

    tag = secrets.token_hex(4)
    async with db.sessionmaker() as s, s.begin():
        user = await auth.create_user(s, f"m-{tag}@a.test", "pw", name=name)
        await auth.add_member(s, tenant_id, user.id, role)
        _, token = await auth.create_api_token(s, tenant_id, user.id, "token")
    return Member(user.id, tenant_id, f"m-{tag}@a.test", "pw", role, token)


async def test_a_spoofed_awareness_user_is_shown_as_its_real_sender(live_server, workflow, tenant_a, db):
    """Someone whose awareness claims to be another person is shown to everyone (already
    there or joining later) as themselves: the server sets `user` from the signed-in account."""
    ann = await _member_named(db, tenant_a.id, "Ann")
    mallory = await _member_named(db, tenant_a.id, "Zoë Ærø", role="viewer")  # non-ASCII: byte lengths
    a = await YClient(url(live_server, workflow, ann), user={"id": ann.user_id, "name": "Ann", "color": "#2563eb"}).connect()
    watcher = await YClient(url(live_server, workflow, tenant_a.owner)).connect()
    spoof = {"id": ann.user_id, "name": "Ann", "color": "url(javascript:alert(1))"}
    m = await YClient(url(live_server, workflow, mallory), user=spoof).connect()

    def shown(client: YClient, client_id: int) -> dict | None:
        state = client.presence.get(client_id)
        return state[1].get("user") if state else None

    real = {"id": mallory.user_id, "name": "Zoë Ærø", "color": DEFAULT_COLOR}
    await eventually(lambda: shown(watcher, m.client_id) is not None)
    assert shown(watcher, m.client_id) == real and shown(a, m.client_id) == real
    late = await YClient(url(live_server, workflow, tenant_a.owner)).connect()
    await eventually(lambda: late.people() == {ann.user_id, mallory.user_id})
    assert shown(late, m.client_id) == real
    assert shown(late, a.client_id) == {"id": ann.user_id, "name": "Ann", "color": "#2563eb"}
    # a later state change is rewritten the same way, whatever it claims
    m.set_presence({"user": {"id": tenant_a.owner.user_id, "name": "Owner a"}, "cursor": {"x": 1, "y": 2}})
    await eventually(lambda: (watcher.presence.get(m.client_id) or (0, {}))[1].get("cursor") == {"x": 1, "y": 2})
    assert shown(watcher, m.client_id) == real
    await asyncio.gather(a.close(), watcher.close(), m.close(), late.close())


async def test_stored_draft_follows_an_open_room_within_two_seconds(live_server, workflow, tenant_a, db_url):
    """While people keep editing, the database has every accepted update and the draft JSON
    (Workflow.graph) within about a second; an edit outside the graph is stored without
    rewriting the JSON."""
    import sqlalchemy as sa

    from backend.db.models import Workflow

    db = Database(db_url)

    async def stored() -> tuple[dict, Any, dict, dict]:
        async with db.sessionmaker() as s:
            row = (await s.execute(sa.select(Workflow.graph, Workflow.updated_at)
                                   .where(Workflow.id == workflow["id"]))).one()
            doc = await store.load_doc(s, workflow["id"])
        return row.graph, row.updated_at, graph_from_doc(doc), doc.get("scratch", type=Map).to_py() or {}

    async def until(check) -> tuple[dict, Any, dict, dict]:
        deadline = time.monotonic() + 2.5
        while not check(found := await stored()) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return found

    def start_label(graph: dict) -> str:
        return next(n for n in graph["nodes"] if n["id"] == "start")["label"]

    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    try:
        for i in range(30):
            a.edit(set_label(f"burst {i}"))
        column, updated_at, from_rows, _ = await until(lambda f: start_label(f[0]) == "burst 29")
        assert start_label(column) == "burst 29" and column == from_rows == graph_from_doc(a.doc)

        a.edit(lambda d: d.get("scratch", type=Map).__setitem__("k", "not part of the graph"))
        column2, updated_at2, _, scratch = await until(lambda f: f[3] == {"k": "not part of the graph"})
        assert scratch == {"k": "not part of the graph"}
        assert (column2, updated_at2) == (column, updated_at)  # the JSON was not written again
        assert not a.closed.is_set()  # the room was open throughout
    finally:
        await db.dispose()
        await a.close()


async def test_updates_are_written_framed_once_to_idle_connections(live_server, workflow, tenant_a, app):
    """Under uvicorn's sans-I/O protocol (as `maily serve` runs it) the room writes each update's frame
    straight to every idle socket, and the client receives every update, in order."""
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    b = await YClient(url(live_server, workflow, tenant_a.owner)).connect()
    for i in range(30):
        a.edit(set_label(f"v{i}"))
        await asyncio.sleep(0.005)
    await eventually(lambda: label(b) == "v29")
    room = app.state.collab.rooms[workflow["id"]]
    to_b = [c for c in room.connections if c.user_id == tenant_a.owner.user_id]
    assert len(to_b) == 1 and to_b[0].direct is not None and to_b[0].direct_sends >= 30
    await a.close()
    await b.close()
