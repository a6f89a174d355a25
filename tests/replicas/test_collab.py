"""Co-editing across three app replicas sharing rooms through Redis (backend/collab/shared.py):
real `maily serve` processes, pycrdt clients over the y-websocket protocol."""

from __future__ import annotations

import asyncio

from pycrdt import Map

from backend.collab.rooms import AWARENESS_TIMEOUT
from backend.seed import welcome_graph
from tests.backend.collab.yclient import YClient
from tests.replicas.conftest import eventually

BASE = welcome_graph()["nodes"][0]


def add_node(client: YClient, nid: str, label: str) -> None:
    client.edit(lambda d: d.get("nodes", type=Map).__setitem__(nid, Map({
        "id": nid, "type": BASE["type"], "type_version": 1, "label": label,
        "position": Map({"x": 0, "y": 0}), "config": Map({})})))


def labels(client: YClient, prefix: str) -> dict[str, str]:
    nodes = client.doc.get("nodes", type=Map)
    return {nid: nodes[nid]["label"] for nid in nodes.keys() if nid.startswith(prefix)}


async def test_clients_on_different_replicas_converge(replicas, tenant, new_workflow):
    """Edits made on each of three replicas reach the clients of the other two, and all documents end equal."""
    wf = await new_workflow()
    token = tenant.editor.token
    clients = [await YClient(replicas.ws(i, wf, token)).connect(timeout=30) for i in range(3)]
    try:
        for i, client in enumerate(clients):
            for j in range(5):
                add_node(client, f"rep{i}-{j}", f"from replica {i} #{j}")
        want = {f"rep{i}-{j}": f"from replica {i} #{j}" for i in range(3) for j in range(5)}
        for client in clients:
            await eventually(lambda c=client: labels(c, "rep") == want, what="every edit on every replica")
        assert all(labels(c, "") == labels(clients[0], "") for c in clients)
    finally:
        for client in clients:
            await client.close()


async def test_replicas_opening_a_new_room_at_once_share_one_document(replicas, tenant, new_workflow):
    """Three replicas opening a workflow's room for the first time at the same moment all hold the
    document stored first: an edit inside an element of the draft (which depends on its items)
    made on one replica shows on the others. A replica that stored its own would hold it back."""
    token = tenant.editor.token
    for attempt in range(4):   # the opens race differently each time
        wf = await new_workflow(f"race {attempt}")
        clients = await asyncio.gather(*(YClient(replicas.ws(i, wf, token)).connect(timeout=30) for i in range(3)))
        try:
            for i, client in enumerate(clients):
                client.edit(lambda d, i=i: d.get("nodes", type=Map)[BASE["id"]].__setitem__(f"by{i}", attempt))
            for client in clients:
                await eventually(lambda c=client: {k for k in c.doc.get("nodes", type=Map)[BASE["id"]].keys()}
                                 >= {"by0", "by1", "by2"}, what="every replica's edit of the draft's node")
        finally:
            await asyncio.gather(*(c.close() for c in clients))


async def test_a_replica_opening_a_room_catches_up_first(replicas, tenant, new_workflow):
    """A client joining on a replica that did not hold the room has, once its first sync is
    answered, an edit another replica accepted a moment before."""
    wf = await new_workflow()
    token = tenant.editor.token
    writer = await YClient(replicas.ws(0, wf, token)).connect(timeout=30)
    watcher = await YClient(replicas.ws(2, wf, token)).connect(timeout=30)
    try:
        add_node(writer, "fresh", "just made")
        await eventually(lambda: labels(watcher, "fresh") == {"fresh": "just made"}, what="the edit shared")
        late = await YClient(replicas.ws(1, wf, token)).connect(timeout=30)   # returns once step 2 is applied
        assert labels(late, "fresh") == {"fresh": "just made"}
        await late.close()
    finally:
        await writer.close()
        await watcher.close()


async def test_presence_is_seen_across_replicas(replicas, tenant, new_workflow):
    """People on other replicas show as present (also to a replica that opens the room later), signed-in
    as themselves; one who leaves disappears everywhere."""
    wf = await new_workflow()
    editor, owner = tenant.editor, tenant.owner
    a = await YClient(replicas.ws(0, wf, editor.token), user={"name": "forged", "color": "#ff0000"}).connect(timeout=30)
    b = await YClient(replicas.ws(2, wf, owner.token), user={"name": "me", "color": "#00ff00"}).connect(timeout=30)
    try:
        await eventually(lambda: a.people() == {owner.user_id}, what="the owner present on replica 0")
        await eventually(lambda: b.people() == {editor.user_id}, what="the editor present on replica 2")
        late = await YClient(replicas.ws(1, wf, editor.token)).connect(timeout=30)   # a third replica, opening the room
        await eventually(lambda: late.people() == {editor.user_id, owner.user_id}, what="both present on replica 1")
        shown = next(s for _, s in b.presence.values() if s.get("user", {}).get("id") == editor.user_id)
        assert shown["user"]["name"] != "forged"
        await a.close()
        await eventually(lambda: b.people() == set(), what="the one who left gone on replica 2")
        await late.close()
    finally:
        await b.close()


async def test_a_replica_killed_mid_edit_loses_nothing(replicas, tenant, new_workflow):
    """A replica is SIGKILLed while its client edits: the client reconnects to another replica and
    resyncs, and every edit it made is in the document a fresh client gets from the third."""
    wf = await new_workflow()
    token = tenant.editor.token
    writer = await YClient(replicas.ws(0, wf, token)).connect(timeout=30)
    watcher = await YClient(replicas.ws(1, wf, token)).connect(timeout=30)
    for j in range(100):
        add_node(writer, f"k{j:03d}", f"edit {j}")
        if j == 60:
            replicas.apps[0].kill()    # mid-burst: some edits never reached replica 0
    await writer.closed.wait()
    await writer._stop_tasks()
    writer.url = replicas.ws(2, wf, token)
    await writer.connect(timeout=30)   # as the editor's provider does: its whole document is in step 2
    want = {f"k{j:03d}": f"edit {j}" for j in range(100)}
    await eventually(lambda: labels(watcher, "k") == want, what="every edit on the watcher's replica")
    await writer.close()
    await watcher.close()
    fresh = await YClient(replicas.ws(2, wf, token)).connect(timeout=30)
    assert labels(fresh, "k") == want
    await fresh.close()


async def test_a_killed_replicas_people_vanish_elsewhere_and_a_reconnected_one_stays(replicas, tenant, new_workflow):
    """A replica is SIGKILLed with two people on it: the one who does not come back disappears on the
    other replicas well before the 30 s awareness timeout (the dead replica's heartbeat expires),
    and the one who reconnects through another replica stays shown."""
    wf = await new_workflow()
    editor, owner, viewer = tenant.editor, tenant.owner, tenant.viewer
    back = await YClient(replicas.ws(0, wf, editor.token), user={"name": "back", "color": "#00ff00"}).connect(timeout=30)
    gone = await YClient(replicas.ws(0, wf, owner.token), user={"name": "gone", "color": "#0000ff"}).connect(timeout=30)
    watcher = await YClient(replicas.ws(2, wf, viewer.token), user={"name": "w", "color": "#ff0000"}).connect(timeout=30)
    try:
        await eventually(lambda: watcher.people() == {editor.user_id, owner.user_id}, what="both shown on replica 2")
        replicas.apps[0].kill()
        await back.closed.wait()
        await back._stop_tasks()
        back.url = replicas.ws(1, wf, editor.token)
        await back.connect(timeout=30)   # its state again, under the same client id, through replica 1
        await eventually(lambda: watcher.people() == {editor.user_id}, timeout=AWARENESS_TIMEOUT / 2,
                         what="only the reconnected person shown on replica 2")
    finally:
        await back.close()
        await watcher.close()
        await gone._stop_tasks()
