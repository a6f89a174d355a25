"""Workflows: CRUD, drafts with errors, publish and versions, restore, tenancy and roles."""

from __future__ import annotations

from typing import Any

from backend.seed import welcome_graph
from tests.backend.conftest import assert_problem


def invalid_graph() -> dict[str, Any]:
    """Three independent errors: an unknown type, a dangling edge, no trigger."""
    return {
        "schema_version": 1, "name": "broken",
        "nodes": [{"id": "a", "type": "data.set", "config": {}},
                  {"id": "b", "type": "nope.unknown", "config": {}}],
        "edges": [{"id": "e1", "source": "a", "target": "ghost"}],
    }


async def create(client, member, **body) -> dict[str, Any]:
    r = await client.post("/api/workflows", json={"name": "wf", **body}, headers=member.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_crud(client, tenant_a):
    ed = tenant_a.editor
    wf = await create(client, ed, name="First", description="d", graph=welcome_graph())
    assert wf["tenant_id"] == tenant_a.id and wf["validation"]["ok"] is True and wf["published_version"] is None
    listed = (await client.get("/api/workflows", headers=ed.headers)).json()
    assert [w["id"] for w in listed] == [wf["id"]] and "graph" not in listed[0]

    got = (await client.get(f"/api/workflows/{wf['id']}", headers=tenant_a.viewer.headers)).json()
    assert got["graph"]["nodes"][0]["id"] == "start"

    r = await client.put(f"/api/workflows/{wf['id']}", json={"name": "Renamed"}, headers=ed.headers)
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.json()["description"] == "d"

    assert (await client.delete(f"/api/workflows/{wf['id']}", headers=ed.headers)).status_code == 204
    assert_problem(await client.get(f"/api/workflows/{wf['id']}", headers=ed.headers), 404)
    assert (await client.get("/api/workflows", headers=ed.headers)).json() == []


async def test_new_workflow_without_graph_starts_empty(client, tenant_a):
    wf = await create(client, tenant_a.owner, name="Empty")
    assert wf["graph"]["nodes"] == [] and wf["graph"]["schema_version"] == 1
    assert wf["validation"]["ok"] is False  # no trigger yet: saved anyway, as a draft


async def test_draft_with_errors_is_saved_and_reported(client, tenant_a):
    wf = await create(client, tenant_a.editor)
    r = await client.put(f"/api/workflows/{wf['id']}", json={"graph": invalid_graph()}, headers=tenant_a.editor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["graph"] == invalid_graph()
    codes = {p["code"] for p in r.json()["validation"]["problems"]}
    assert {"unknown_type", "dangling_edge", "no_trigger"} <= codes


async def test_graph_must_be_an_object(client, tenant_a):
    wf = await create(client, tenant_a.editor)
    doc = assert_problem(await client.put(f"/api/workflows/{wf['id']}", json={"graph": [1, 2]},
                                          headers=tenant_a.editor.headers), 422)
    assert doc["field"] == "graph"


async def test_publish_refuses_invalid_graph_listing_every_problem(client, tenant_a):
    wf = await create(client, tenant_a.editor, graph=invalid_graph())
    doc = assert_problem(await client.post(f"/api/workflows/{wf['id']}/publish", headers=tenant_a.editor.headers), 422)
    codes = {p["code"] for p in doc["problems"]}
    assert {"unknown_type", "dangling_edge", "no_trigger"} <= codes
    assert any(p.get("node_id") == "b" for p in doc["problems"])
    assert any(p.get("edge_id") == "e1" and p.get("pointer", "").startswith("/edges/0") for p in doc["problems"])
    assert (await client.get(f"/api/workflows/{wf['id']}/versions", headers=tenant_a.editor.headers)).json() == []


async def test_publish_versions_and_restore(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await create(client, tenant_a.editor, graph=welcome_graph())
    r = await client.post(f"/api/workflows/{wf['id']}/publish", json={"note": "first"}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1 and r.json()["note"] == "first"

    changed = welcome_graph()
    changed["name"] = "changed"
    await client.put(f"/api/workflows/{wf['id']}", json={"graph": changed}, headers=h)
    r = await client.post(f"/api/workflows/{wf['id']}/publish", headers=h)  # no body at all
    assert r.status_code == 201 and r.json()["version"] == 2

    versions = (await client.get(f"/api/workflows/{wf['id']}/versions", headers=h)).json()
    assert [v["version"] for v in versions] == [2, 1]
    v1 = (await client.get(f"/api/workflows/{wf['id']}/versions/1", headers=h)).json()
    assert v1["graph"]["name"] == welcome_graph()["name"]
    assert (await client.get(f"/api/workflows/{wf['id']}", headers=h)).json()["published_version"] == 2
    assert_problem(await client.get(f"/api/workflows/{wf['id']}/versions/9", headers=h), 404)

    r = await client.post(f"/api/workflows/{wf['id']}/versions/1/restore", headers=h)
    assert r.status_code == 200 and r.json()["graph"]["name"] == welcome_graph()["name"]
    # Restoring changes the draft only; versions stay immutable.
    v2 = (await client.get(f"/api/workflows/{wf['id']}/versions/2", headers=h)).json()
    assert v2["graph"]["name"] == "changed"


async def test_unpublish_publishes_nothing_until_the_next_publish(client, tenant_a):
    """Unpublishing keeps the versions, leaves nothing to run as published, and a publish brings it back."""
    h = tenant_a.editor.headers
    wf = await create(client, tenant_a.editor, graph=welcome_graph())
    url = f"/api/workflows/{wf['id']}"
    assert (await client.post(url + "/publish", headers=h)).status_code == 201
    assert_problem(await client.post(url + "/unpublish", headers=tenant_a.viewer.headers), 403)
    r = await client.post(url + "/unpublish", headers=h)
    assert r.status_code == 200 and r.json()["published_version"] is None
    assert (await client.post(url + "/unpublish", headers=h)).json()["published_version"] is None   # idempotent
    assert [v["version"] for v in (await client.get(url + "/versions", headers=h)).json()] == [1]
    assert_problem(await client.post(url + "/runs", json={"source": "published"}, headers=h), 409)
    assert (await client.post(url + "/publish", headers=h)).json()["version"] == 2
    assert (await client.get(url, headers=h)).json()["published_version"] == 2


async def test_other_tenant_gets_404_everywhere(client, tenant_a, tenant_b):
    wf = await create(client, tenant_a.editor, graph=welcome_graph())
    await client.post(f"/api/workflows/{wf['id']}/publish", headers=tenant_a.editor.headers)
    h = tenant_b.owner.headers
    url = f"/api/workflows/{wf['id']}"
    assert_problem(await client.get(url, headers=h), 404)
    assert_problem(await client.put(url, json={"name": "x"}, headers=h), 404)
    assert_problem(await client.delete(url, headers=h), 404)
    assert_problem(await client.post(url + "/publish", headers=h), 404)
    assert_problem(await client.post(url + "/unpublish", headers=h), 404)
    assert_problem(await client.get(url + "/versions", headers=h), 404)
    assert_problem(await client.get(url + "/versions/1", headers=h), 404)
    assert_problem(await client.post(url + "/versions/1/restore", headers=h), 404)
    assert (await client.get("/api/workflows", headers=h)).json() == []
    # Still intact for its owner.
    assert (await client.get(url, headers=tenant_a.viewer.headers)).json()["name"] == "wf"


async def test_body_tenant_id_is_ignored(client, tenant_a, tenant_b):
    r = await client.post("/api/workflows", json={"name": "sneaky", "tenant_id": tenant_b.id},
                          headers=tenant_a.editor.headers)
    assert r.status_code == 201 and r.json()["tenant_id"] == tenant_a.id
    wf_id = r.json()["id"]
    r = await client.put(f"/api/workflows/{wf_id}", json={"tenant_id": tenant_b.id, "name": "still mine"},
                         headers=tenant_a.editor.headers)
    assert r.json()["tenant_id"] == tenant_a.id
    assert_problem(await client.get(f"/api/workflows/{wf_id}", headers=tenant_b.owner.headers), 404)


async def test_viewer_reads_but_cannot_write(client, tenant_a):
    wf = await create(client, tenant_a.owner, graph=welcome_graph())
    v = tenant_a.viewer.headers
    url = f"/api/workflows/{wf['id']}"
    assert (await client.get(url, headers=v)).status_code == 200
    assert (await client.get(url + "/versions", headers=v)).status_code == 200
    assert_problem(await client.post("/api/workflows", json={"name": "x"}, headers=v), 403)
    assert_problem(await client.put(url, json={"name": "x"}, headers=v), 403)
    assert_problem(await client.delete(url, headers=v), 403)
    assert_problem(await client.post(url + "/publish", headers=v), 403)
    assert_problem(await client.post(url + "/versions/1/restore", headers=v), 403)


async def test_session_user_can_create(client, tenant_a):
    ed = tenant_a.editor
    await client.post("/api/auth/login", json={"email": ed.email, "password": ed.password})
    r = await client.post("/api/workflows", json={"name": "via cookie"})
    assert r.status_code == 201 and r.json()["created_by"] == ed.user_id


async def test_list_rejects_unknown_order(client, tenant_a):
    doc = assert_problem(await client.get("/api/workflows?order=sideways", headers=tenant_a.viewer.headers), 400)
    assert doc["field"] == "order"
