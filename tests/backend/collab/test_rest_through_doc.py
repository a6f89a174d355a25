"""REST saves, restores and publishes go through the shared document."""

from __future__ import annotations

from pycrdt import Map

from backend.collab.convert import graph_from_doc
from backend.seed import welcome_graph
from tests.backend.collab.test_endpoint import eventually, label, set_label, url
from tests.backend.collab.yclient import YClient
from tests.backend.runs.test_controllers import wait_for_end


def node(graph: dict, node_id: str) -> dict:
    return next(n for n in graph["nodes"] if n["id"] == node_id)


async def test_rest_update_reaches_a_connected_editor_as_an_edit(live_server, http, workflow, tenant_a):
    """A PUT of the draft arrives at a connected editor as a document update (no reconnect, no
    reload). (A concurrent edit surviving it is tested on the document in test_convert.py.)"""
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    changed = welcome_graph()
    node(changed, "start")["label"] = "via REST"
    r = await http.put(f"/api/workflows/{workflow['id']}", json={"graph": changed}, headers=tenant_a.editor.headers)
    assert r.status_code == 200, r.text
    await eventually(lambda: label(a) == "via REST")
    assert not a.closed.is_set()
    node(changed, "start")["label"] = "again"
    await http.put(f"/api/workflows/{workflow['id']}", json={"graph": changed}, headers=tenant_a.editor.headers)
    await eventually(lambda: label(a) == "again")
    await a.close()
    got = (await http.get(f"/api/workflows/{workflow['id']}", headers=tenant_a.editor.headers)).json()
    assert node(got["graph"], "start")["label"] == "again"


async def test_restore_reaches_a_connected_editor(live_server, http, workflow, tenant_a):
    """Restoring a version edits the live document: the connected person sees it without reconnecting."""
    h = tenant_a.editor.headers
    assert (await http.post(f"/api/workflows/{workflow['id']}/publish", headers=h)).status_code == 201
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    a.edit(set_label("edited after v1"))
    await a.drain()
    r = await http.post(f"/api/workflows/{workflow['id']}/versions/1/restore", headers=h)
    assert r.status_code == 200 and node(r.json()["graph"], "start")["label"] == "Start"
    await eventually(lambda: label(a) == "Start")
    assert not a.closed.is_set()
    await a.close()


async def test_publish_stores_the_documents_graph(live_server, http, workflow, tenant_a):
    """Publishing right after an edit freezes the document as it is, not a stale JSON copy."""
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    a.edit(set_label("just typed"))
    await a.drain()
    r = await http.post(f"/api/workflows/{workflow['id']}/publish", headers=tenant_a.editor.headers)
    assert r.status_code == 201, r.text
    assert node(r.json()["graph"], "start")["label"] == "just typed"
    assert node(graph_from_doc(a.doc), "start")["label"] == "just typed"
    await a.close()


async def test_rest_update_without_a_room_is_stored_in_the_document(live_server, http, workflow, tenant_a):
    """With nobody connected, a PUT edits the stored document; the next person gets it."""
    changed = welcome_graph()
    node(changed, "start")["label"] = "offline save"
    r = await http.put(f"/api/workflows/{workflow['id']}", json={"graph": changed}, headers=tenant_a.editor.headers)
    assert r.status_code == 200
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    assert label(a) == "offline save"
    await a.close()


async def test_graph_without_ids_is_refused(http, workflow, tenant_a):
    """A graph whose nodes lack unique string ids cannot be co-edited: 422 naming the field."""
    r = await http.put(f"/api/workflows/{workflow['id']}", json={"graph": {"nodes": [{"type": "x"}]}},
                       headers=tenant_a.editor.headers)
    assert r.status_code == 422 and r.json()["field"] == "graph"


async def test_versions_diff_endpoint(http, workflow, tenant_a):
    """GET .../versions/diff lists what changed between versions and against the draft."""
    h = tenant_a.editor.headers
    wid = workflow["id"]
    await http.post(f"/api/workflows/{wid}/publish", headers=h)
    changed = welcome_graph()
    node(changed, "big")["config"]["condition"] = "{{ input.total > 5 }}"
    changed["nodes"] = [n for n in changed["nodes"] if n["id"] != "vip"]
    changed["edges"] = [e for e in changed["edges"] if "vip" not in (e["source"], e["target"])]
    await http.put(f"/api/workflows/{wid}", json={"graph": changed}, headers=h)
    r = await http.get(f"/api/workflows/{wid}/versions/diff?from_version=1&to_version=draft", headers=h)
    assert r.status_code == 200, r.text
    d = r.json()
    assert [n["id"] for n in d["nodes"]["removed"]] == ["vip"]
    assert d["nodes"]["changed"][0]["id"] == "big"
    assert d["nodes"]["changed"][0]["changes"][0]["pointer"] == "/config/condition"
    await http.post(f"/api/workflows/{wid}/publish", headers=h)
    r2 = await http.get(f"/api/workflows/{wid}/versions/diff?from_version=1&to_version=2", headers=h)
    assert r2.json()["nodes"] == d["nodes"]
    assert (await http.get(f"/api/workflows/{wid}/versions/diff?from_version=x", headers=h)).status_code == 400
    assert (await http.get(f"/api/workflows/{wid}/versions/diff?from_version=9", headers=h)).status_code == 404


async def test_a_draft_run_right_after_an_edit_runs_the_documents_graph(live_server, http, workflow, tenant_a):
    """Starting a draft run just after a co-editor's edit runs what is on screen, not the
    stored draft the room writes a second later."""
    a = await YClient(url(live_server, workflow, tenant_a.editor)).connect()
    a.edit(lambda doc: doc.get("nodes", type=Map)["vip"]["config"].__setitem__("values", {"tier": "platinum"}))
    await a.drain()
    h = tenant_a.editor.headers
    r = await http.post(f"/api/workflows/{workflow['id']}/runs", json={"input": {"total": 500}}, headers=h)
    assert r.status_code == 202, r.text
    run = await wait_for_end(http, h, r.json()["id"])
    assert run["output"]["done"]["tier"] == "platinum", run
    await a.close()


async def test_an_integer_the_document_cannot_hold_is_a_422_naming_node_and_field(http, workflow, tenant_a):
    """A REST save with an integer beyond 2**53 (pycrdt panics past 2**63) is refused with the
    node id and pointer, and the draft stays as it was."""
    h = tenant_a.editor.headers
    before = (await http.get(f"/api/workflows/{workflow['id']}", headers=h)).json()["graph"]
    changed = welcome_graph()
    node(changed, "start")["config"] = {"huge": 2**64}
    r = await http.put(f"/api/workflows/{workflow['id']}", json={"graph": changed}, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    problem = r.json()
    i = next(i for i, n in enumerate(changed["nodes"]) if n["id"] == "start")
    assert (problem["node_id"], problem["pointer"], problem["field"]) == ("start", f"/nodes/{i}/config/huge", "graph")
    assert (await http.get(f"/api/workflows/{workflow['id']}", headers=h)).json()["graph"] == before
