"""POST /api/credentials/scan, and the `findings` of template upload and import: a pasted graph or a
template carrying a literal token is flagged (node, JSON pointer, suggested type), the token not echoed."""

from __future__ import annotations

TOKEN = "ghp_" + "Zk3q9XvT7bLp2RmW8nYc4HdJ6sGa1FeQ0123"


def _graph(value: str) -> dict:
    return {"schema_version": 1, "nodes": [
        {"id": "start", "type": "trigger.manual", "type_version": 1, "position": {"x": 0, "y": 0}, "config": {}},
        {"id": "fetch", "type": "http.request", "type_version": 1, "position": {"x": 200, "y": 0},
         "config": {"url": "https://api.github.com/user", "method": "GET", "headers": {"Authorization": value}}}],
        "edges": [{"id": "e", "source": "start", "source_port": "output", "target": "fetch", "target_port": "input"}]}


async def test_scan_flags_a_literal_bearer_header(client, tenant_a):
    """A pasted graph with `Bearer <token>`: one bearer finding at /headers/Authorization, no token in the answer."""
    r = await client.post("/api/credentials/scan", json={"graph": _graph(f"Bearer {TOKEN}")},
                          headers=tenant_a.viewer.headers)
    assert r.status_code == 200 and TOKEN not in r.text
    assert [(f["node_id"], f["field"], f["kind"], f["suggested_type"]) for f in r.json()["findings"]] == [
        ("fetch", "/headers/Authorization", "bearer", "bearer")]


async def test_scan_ignores_expressions(client, tenant_a):
    """`Bearer {{ ... }}` is a reference: no finding."""
    r = await client.post("/api/credentials/scan", json={"graph": _graph("Bearer {{ vars.token }}")},
                          headers=tenant_a.editor.headers)
    assert r.json() == {"findings": []}


async def test_scan_needs_a_graph_object(client, tenant_a):
    """A body without a graph object is 422 naming `graph`."""
    r = await client.post("/api/credentials/scan", json={"graph": "nope"}, headers=tenant_a.editor.headers)
    assert r.status_code == 422 and r.json()["field"] == "graph"


async def test_template_upload_and_import_report_findings(client, tenant_a):
    """Uploading a template with a literal key answers its findings; importing it answers them again."""
    doc = {"format_version": 3, "id": "leaky", "version": 1, "title": "Leaky", "graph": _graph(f"token {TOKEN}")}
    up = await client.post("/api/templates/upload", json=doc, headers=tenant_a.editor.headers)
    assert up.status_code == 201, up.text
    assert [(f["node_id"], f["field"], f["kind"]) for f in up.json()["findings"]] == [("fetch", "/headers/Authorization", "key")]
    imported = await client.post(f"/api/templates/{up.json()['id']}/import", json={}, headers=tenant_a.editor.headers)
    assert imported.status_code == 201, imported.text
    assert [f["field"] for f in imported.json()["findings"]] == ["/headers/Authorization"]
    assert TOKEN not in str(imported.json()["findings"])


async def test_a_clean_template_has_no_findings(client, tenant_a):
    """A gallery template imports with an empty findings list."""
    r = await client.post("/api/templates/backup-and-cleanup/import", json={}, headers=tenant_a.editor.headers)
    assert r.status_code == 201 and r.json()["findings"] == []
