"""A removed member's open co-editing and run-event sockets close with 4401 before the removal's 204
is answered, and cannot be opened again; other members' sockets stay open (a real uvicorn server)."""

from __future__ import annotations

import asyncio

import httpx
import websockets

from tests.flows.fakes import edge, graph, node
from tests.live_server import browser, closed_with, cookie_socket


async def slow_run(http_client: httpx.AsyncClient, member) -> str:
    """A run that stays running for 25 s (cancelled by the test)."""
    g = graph([node("start", "trigger.manual"), node("wait", "util.delay", seconds=25)], [edge("start", "wait")])
    r = await http_client.post("/api/runs", json={"graph": g}, headers=member.headers)
    assert r.status_code == 202, r.text
    return r.json()["id"]


async def test_removal_closes_the_members_collab_and_run_sockets(live_server, http, workflow, tenant_a):
    """Removing the editor closes their cookie collab socket and token run-event socket with 4401; the viewer's stay open."""
    victim = tenant_a.editor
    b = await browser(live_server, victim)
    run_id = await slow_run(http, tenant_a.owner)
    events = f"ws://{live_server}/api/runs/{run_id}/events?token="
    try:
        async with cookie_socket(live_server, f"/api/collab/{workflow['id']}", b) as collab, \
                websockets.connect(events + victim.token) as run_events, \
                websockets.connect(f"ws://{live_server}/api/collab/{workflow['id']}?token={tenant_a.viewer.token}") as kept, \
                websockets.connect(events + tenant_a.viewer.token) as kept_events:
            for ws in (collab, run_events, kept, kept_events):
                await ws.recv()   # joined / streaming
            r = await http.delete(f"/api/members/{victim.user_id}", headers=tenant_a.owner.headers)
            assert r.status_code == 204, r.text
            assert await closed_with(collab) == 4401 and collab.close_reason == "removed from workspace"
            assert await closed_with(run_events) == 4401
            await asyncio.wait_for(await kept.ping(), 5)
            await asyncio.wait_for(await kept_events.ping(), 5)
        # Neither the session nor the token opens a socket of this workspace again.
        async with cookie_socket(live_server, f"/api/collab/{workflow['id']}", b) as again:
            assert await closed_with(again) == 4401
        async with websockets.connect(f"ws://{live_server}/api/collab/{workflow['id']}?token={victim.token}") as again:
            assert await closed_with(again) == 4401
        assert (await b.get("/api/workflows")).status_code == 401   # the session of that workspace is ended
        assert (await http.get("/api/workflows", headers=victim.headers)).status_code == 401
    finally:
        await b.aclose()
        await http.post(f"/api/runs/{run_id}/cancel", headers=tenant_a.owner.headers)


async def test_removal_leaves_the_persons_sockets_in_other_workspaces_open(live_server, http, db, workflow,
                                                                          tenant_a, tenant_b):
    """Someone in two workspaces removed from one keeps their co-editing socket of the other."""
    from backend.auth import services as auth

    person = tenant_b.editor
    async with db.sessionmaker() as s, s.begin():
        await auth.add_member(s, tenant_a.id, person.user_id, "editor")
        _, a_token = await auth.create_api_token(s, tenant_a.id, person.user_id, "a")
    r = await http.post("/api/workflows", json={"name": "b's", "graph": workflow["graph"]}, headers=person.headers)
    b_workflow = r.json()["id"]
    async with websockets.connect(f"ws://{live_server}/api/collab/{workflow['id']}?token={a_token}") as in_a, \
            websockets.connect(f"ws://{live_server}/api/collab/{b_workflow}?token={person.token}") as in_b:
        await in_a.recv()
        await in_b.recv()
        assert (await http.delete(f"/api/members/{person.user_id}", headers=tenant_a.owner.headers)).status_code == 204
        assert await closed_with(in_a) == 4401
        await asyncio.wait_for(await in_b.ping(), 5)


async def test_a_role_change_makes_the_collab_socket_reconnect_with_the_new_role(live_server, http, workflow, tenant_a):
    """Demoting an editor closes their co-editing socket with 4000 (reconnect) and leaves their run-event socket
    open; reconnected, they are a viewer whose edits are dropped."""
    from pycrdt import Map

    from tests.backend.collab.test_endpoint import eventually, label, set_label
    from tests.backend.collab.yclient import YClient

    ed = tenant_a.editor
    run_id = await slow_run(http, tenant_a.owner)
    collab_url = f"ws://{live_server}/api/collab/{workflow['id']}?token="
    try:
        async with websockets.connect(collab_url + ed.token) as before, \
                websockets.connect(f"ws://{live_server}/api/runs/{run_id}/events?token={ed.token}") as run_events:
            await before.recv()
            await run_events.recv()
            r = await http.patch(f"/api/members/{ed.user_id}", json={"role": "viewer"}, headers=tenant_a.owner.headers)
            assert r.status_code == 200, r.text
            assert await closed_with(before) == 4000 and before.close_reason == "role changed"
            await asyncio.wait_for(await run_events.ping(), 5)
        demoted = await YClient(collab_url + ed.token).connect()
        owner = await YClient(collab_url + tenant_a.owner.token).connect()
        try:
            demoted.edit(lambda d: d.get("nodes", type=Map).pop("big"))
            await demoted.roundtrip()   # the server has handled (dropped) the edit
            owner.edit(set_label("by the owner"))
            await eventually(lambda: label(demoted) == "by the owner")
            assert "big" in owner.doc.get("nodes", type=Map)
        finally:
            await demoted.close(), await owner.close()
        # The same role again changes nothing and closes nothing.
        async with websockets.connect(collab_url + ed.token) as same:
            await same.recv()
            r = await http.patch(f"/api/members/{ed.user_id}", json={"role": "viewer"}, headers=tenant_a.owner.headers)
            assert r.status_code == 200
            await asyncio.wait_for(await same.ping(), 5)
    finally:
        await http.post(f"/api/runs/{run_id}/cancel", headers=tenant_a.owner.headers)
