"""Read-only API tokens: GET answers, every unsafe method is 403 problem+json whatever the route and
the role, and their co-editing socket receives the document but its edits are dropped."""

from __future__ import annotations

from pycrdt import Map

from backend.seed import welcome_graph
from tests.backend.collab.test_endpoint import eventually, label, set_label
from tests.backend.collab.yclient import YClient
from tests.backend.conftest import assert_problem


async def _read_only_token(client, member) -> dict:
    r = await client.post("/api/auth/tokens", json={"name": "dashboard", "read_only": True}, headers=member.headers)
    assert r.status_code == 201, r.text
    assert r.json()["read_only"] is True
    return r.json()


async def test_a_read_only_token_reads_but_changes_nothing(client, tenant_a):
    """An owner's read-only token: GETs are 200; POST, PUT, PATCH and DELETE are 403 on every kind of route."""
    wf = (await client.post("/api/workflows", json={"name": "kept", "graph": welcome_graph()},
                            headers=tenant_a.owner.headers)).json()
    ro = await _read_only_token(client, tenant_a.owner)
    h = {"Authorization": f"Bearer {ro['token']}"}
    for path in ("/api/workflows", f"/api/workflows/{wf['id']}", "/api/members", "/api/members/invitations",
                 "/api/auth/me", "/api/auth/tokens", "/api/audit/"):
        assert (await client.get(path, headers=h)).status_code == 200, path
    refused = [
        client.post("/api/workflows", json={"name": "x"}, headers=h),
        client.put(f"/api/workflows/{wf['id']}", json={"name": "x", "graph": welcome_graph()}, headers=h),
        client.patch(f"/api/members/{tenant_a.editor.user_id}", json={"role": "viewer"}, headers=h),
        client.delete(f"/api/workflows/{wf['id']}", headers=h),
        client.delete(f"/api/members/{tenant_a.viewer.user_id}", headers=h),
        client.post("/api/members/invitations", json={"email": "ro@example.com", "role": "viewer"}, headers=h),
        client.post("/api/auth/tokens", json={"name": "escalate"}, headers=h),   # no full token from a read-only one
        client.delete(f"/api/auth/tokens/{ro['id']}", headers=h),
        client.patch("/api/auth/me", json={"name": "x"}, headers=h),
    ]
    for r in refused:
        assert "read-only" in assert_problem(await r, 403)["detail"]
    items = (await client.get("/api/members", headers=tenant_a.owner.headers)).json()["items"]
    assert {i["user_id"]: i["role"] for i in items}[tenant_a.editor.user_id] == "editor"
    assert (await client.get(f"/api/workflows/{wf['id']}", headers=h)).json()["name"] == "kept"
    tokens = (await client.get("/api/auth/tokens", headers=tenant_a.owner.headers)).json()
    assert {t["id"]: t["read_only"] for t in tokens}[ro["id"]] is True


async def test_a_read_only_tokens_collab_socket_reads_but_cannot_write(live_server, http, workflow, tenant_a):
    """An owner's read-only token joins the co-editing room, receives others' edits, and its own are dropped."""
    ro = await _read_only_token(http, tenant_a.owner)
    base = f"ws://{live_server}/api/collab/{workflow['id']}?token="
    reader = await YClient(base + ro["token"]).connect()
    editor = await YClient(base + tenant_a.editor.token).connect()
    try:
        reader.edit(lambda d: d.get("nodes", type=Map).pop("big"))
        reader.edit(lambda d: d.get("nodes", type=Map).__setitem__("intruder", Map({"id": "intruder"})))
        await reader.roundtrip()   # the server has handled (dropped) both edits
        editor.edit(set_label("legit"))
        await eventually(lambda: label(reader) == "legit")   # reads still arrive
        nodes = editor.doc.get("nodes", type=Map)
        assert "big" in nodes and "intruder" not in nodes and label(editor) == "legit"
    finally:
        await reader.close(), await editor.close()
    r = await http.get(f"/api/workflows/{workflow['id']}", headers=tenant_a.owner.headers)
    nodes = {n["id"]: n for n in r.json()["graph"]["nodes"]}
    assert "big" in nodes and "intruder" not in nodes and nodes["start"]["label"] == "legit"
