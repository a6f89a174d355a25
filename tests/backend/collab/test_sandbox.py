"""The sacrificial worker (backend/collab/sandbox.py): an update that kills pycrdt kills only the
worker; the app refuses it, restarts the worker and keeps serving the room and every other room."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest
import websockets
from pycrdt import Doc, Map

from backend.collab import limits
from backend.collab.limits import UpdateRefused
from backend.collab import protocol as p
from backend.collab.sandbox import Sandbox
from tests.backend.collab.test_endpoint import eventually, label, set_label, url
from tests.backend.collab.test_limits import deep_update
from tests.backend.collab.yclient import YClient

REPRO = Path(__file__).resolve().parents[3] / "docs" / "repro" / "pycrdt_forged_items.py"
KILLER_DEPTH = 100_000  # pycrdt segfaults applying an `any` nested this deep (docs/repro/pycrdt_deep_nesting.py)


def _repro():
    spec = importlib.util.spec_from_file_location("pycrdt_forged_items", REPRO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _edit(doc: Doc, key: str) -> bytes:
    before = doc.get_state()
    doc.get("nodes", type=Map)[key] = {"id": key}
    return doc.get_update(before)


async def admitted(sandbox: Sandbox, room: str, update: bytes, doc: Doc, backlog=list) -> bool:
    """Whether the sandbox admits `update` to the room whose document is `doc`."""
    try:
        await sandbox.check(room, update, doc.get_update, backlog)
    except UpdateRefused:
        return False
    return True


@pytest.fixture
async def sandbox():
    box = Sandbox(workers=1)
    await box.start()
    yield box
    await box.stop()


async def test_a_worker_crash_refuses_the_update_and_the_next_one_is_checked_on_a_fresh_replica(sandbox):
    """The deep update kills the worker: it is refused, a new worker starts, and the room's next update is admitted."""
    doc = Doc()
    doc.get("nodes", type=Map)["start"] = {"id": "start"}
    assert await admitted(sandbox, "room", _edit(doc, "a"), doc)
    assert not await admitted(sandbox, "room", deep_update(KILLER_DEPTH), doc)
    assert sandbox.deaths == 1
    assert await admitted(sandbox, "room", _edit(doc, "b"), doc)
    assert (sandbox.deaths, sandbox.starts) == (1, 2)


async def test_the_forged_items_of_the_repro_never_take_this_process_down(sandbox):
    """The repro's forged updates (which crash pycrdt in about a third of processes) only ever cost a worker."""
    repro = _repro()
    base = bytes.fromhex(repro.BASE)
    doc = Doc()
    doc.apply_update(base)
    for attempt in range(6):
        for update in map(bytes.fromhex, repro.UPDATES):
            await admitted(sandbox, f"room{attempt}", update, doc)  # admitted or refused: never a crash here
    assert await admitted(sandbox, "room-after", _edit(doc, "after"), doc)


async def test_server_edits_reach_the_replica_before_the_next_update(sandbox):
    """The backlog: an update building on a server edit is checked against a replica that holds the edit."""
    doc = Doc()
    doc.get("nodes", type=Map)["start"] = {"id": "start"}
    assert await admitted(sandbox, "room", _edit(doc, "a"), doc)
    before = doc.get_state()
    doc.get("nodes", type=Map)["by-server"] = Map({"id": "by-server"})
    server_edit = doc.get_update(before)
    before = doc.get_state()
    doc.get("nodes", type=Map)["by-server"]["label"] = "on the server's item"
    change = await sandbox.check("room", doc.get_update(before), doc.get_update, lambda: [server_edit])
    assert change != b"\x00\x00"  # integrated there, not kept pending for want of the server's item


async def test_a_killer_update_leaves_the_room_and_other_rooms_serving(live_server, workflow_factory, http, tenant_a,
                                                                     app, monkeypatch):
    """With the structural depth check lifted, a frame that segfaults pycrdt closes its sender (1008); the app lives on."""
    monkeypatch.setattr(limits, "MAX_UPDATE_DEPTH", 10**9)  # let the killer reach pycrdt
    sandbox = app.state.collab.sandbox
    deaths = sandbox.deaths
    wf, other = await workflow_factory(), await workflow_factory()
    a = await YClient(url(live_server, wf, tenant_a.editor)).connect()
    b = await YClient(url(live_server, wf, tenant_a.editor)).connect()
    c = await YClient(url(live_server, other, tenant_a.editor)).connect()
    d = await YClient(url(live_server, other, tenant_a.editor)).connect()
    try:
        async with websockets.connect(url(live_server, wf, tenant_a.editor), max_size=None) as bad:
            await bad.send(p.sync_update(deep_update(KILLER_DEPTH)))
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(bad.recv(), 15)
            assert bad.close_code == 1008
        assert sandbox.deaths == deaths + 1
        a.edit(set_label("after the crash"))
        c.edit(set_label("other room"))
        await eventually(lambda: label(b) == "after the crash" and label(d) == "other room", timeout=10)
        assert "deep" not in b.doc.get("nodes", type=Map)
    finally:
        for client in (a, b, c, d):
            await client.close()
    r = await http.get(f"/api/workflows/{wf['id']}", headers=tenant_a.editor.headers)
    assert r.status_code == 200
    assert {n["id"]: n["label"] for n in r.json()["graph"]["nodes"]}["start"] == "after the crash"


async def test_updates_arriving_together_are_checked_together_and_a_killer_among_them_is_singled_out(sandbox):
    """Queued updates go as one batch; if the batch kills the worker, each is checked alone: only the killer is refused."""
    docs = {room: Doc() for room in ("r1", "r2")}
    for doc in docs.values():
        doc.get("nodes", type=Map)["start"] = {"id": "start"}
    assert await admitted(sandbox, "r1", _edit(docs["r1"], "warm"), docs["r1"])
    updates = [("r1" if i % 2 else "r2", _edit(docs["r1" if i % 2 else "r2"], f"k{i}")) for i in range(10)]
    updates.insert(5, ("r1", deep_update(KILLER_DEPTH)))
    answers = await asyncio.gather(*(admitted(sandbox, room, u, docs[room]) for room, u in updates))
    assert answers == [i != 5 for i in range(11)]
    assert sandbox.batches >= 1 and sandbox.deaths == 2  # the batch, then the killer alone


async def test_a_failing_seed_refuses_that_update_and_the_sandbox_keeps_checking(sandbox):
    """A bug while building a request refuses the updates in it; the next updates are checked as usual."""
    doc = Doc()
    doc.get("nodes", type=Map)["start"] = {"id": "start"}

    def broken() -> bytes:
        raise RuntimeError("no seed")

    with pytest.raises(UpdateRefused):
        await sandbox.check("room", _edit(doc, "a"), broken, list)
    assert await admitted(sandbox, "room", _edit(doc, "b"), doc)
