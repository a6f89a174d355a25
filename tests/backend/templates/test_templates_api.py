"""/api/templates: gallery, search and filters, preview, import
through parameters, a run of an imported template through the API, hostile uploads that
store nothing, sharing and tenant isolation, save as template, updates and their merge."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from backend.db.models import Workflow
from backend.templates.models import Template, TemplateLink
from tests.backend.conftest import assert_problem
from tests.backend.runs.test_controllers import wait_for_end

GALLERY_IDS = {"user-onboarding", "document-processing", "email-campaign", "data-synchronization", "notification",
               "backup-and-cleanup"}


def _tiny(**over):
    doc = {"format_version": 2, "id": "tiny", "version": 1, "title": "Tiny", "category": "testing", "tags": ["t"],
           "parameters": {"type": "object", "properties": {"greeting": {"type": "string", "default": "Hello"}}},
           "graph": {"schema_version": 1, "name": "Tiny", "nodes": [
               {"id": "start", "type": "trigger.manual", "type_version": 1, "position": {"x": 0, "y": 0}, "label": "Start",
                "config": {}},
               {"id": "say", "type": "data.set", "type_version": 1, "position": {"x": 240, "y": 0}, "label": "Say",
                "config": {"values": {"text": {"$param": "greeting"}, "who": "{{ trigger.name }}"}}}],
               "edges": [{"id": "e1", "source": "start", "source_port": "output", "target": "say",
                          "target_port": "input"}]}}
    doc.update(over)
    return doc


async def test_gallery_lists_searches_and_filters(client, tenant_a):
    h = tenant_a.viewer.headers
    body = (await client.get("/api/templates", headers=h)).json()
    assert GALLERY_IDS <= {t["id"] for t in body["items"]}
    assert {"onboarding", "documents", "marketing", "data", "notifications", "maintenance"} <= set(body["categories"])
    assert all(t["builtin"] and t["visibility"] == "public" and not t["editable"] for t in body["items"]
               if t["id"] in GALLERY_IDS)
    ids = lambda r: {t["id"] for t in r.json()["items"]}  # noqa: E731
    assert ids(await client.get("/api/templates", params={"q": "campaign"}, headers=h)) == {"email-campaign"}
    assert ids(await client.get("/api/templates", params={"category": "data"}, headers=h)) == {"data-synchronization"}
    assert ids(await client.get("/api/templates", params={"tag": "alerts"}, headers=h)) == {"notification"}
    assert ids(await client.get("/api/templates", params={"q": "backup certificates"}, headers=h)) == {"backup-and-cleanup"}
    preview = (await client.get("/api/templates/email-campaign", headers=h)).json()
    assert preview["parameters"]["properties"]["sender"]["type"] == "string"
    assert {n["id"] for n in preview["graph"]["nodes"]} >= {"copy", "send"}
    assert preview["ai_enhancement_points"][0]["node"] == "copy"
    assert_problem(await client.get("/api/templates/nope", headers=h), 404)
    assert_problem(await client.get("/api/templates/" + "0" * 32, headers=h), 404)


async def test_import_through_parameters_creates_a_draft_and_it_runs(client, tenant_a, db):
    h = tenant_a.editor.headers
    bad = await client.post("/api/templates/notification/import", json={"params": {"oncall_email": "not-an-address"}},
                            headers=h)
    doc = assert_problem(bad, 422)
    assert doc["errors"][0]["field"] == "oncall_email" and "oncall_email" in doc["detail"]
    assert_problem(await client.post("/api/templates/notification/import", json={"params": {}, "extra": 1},
                                     headers=h), 422)
    assert_problem(await client.post("/api/templates/notification/import", json={},
                                     headers=tenant_a.viewer.headers), 403)
    r = await client.post("/api/templates/notification/import",
                          json={"name": "Alerts", "params": {"oncall_email": "pager@ops.example", "sender": "Ops <ops@ops.example>"}},
                          headers=h)
    assert r.status_code == 201, r.text
    wf = r.json()
    assert wf["name"] == "Alerts" and wf["validation"]["ok"], wf["validation"]
    nodes = {n["id"]: n for n in wf["graph"]["nodes"]}
    assert nodes["page_send"]["config"]["sender"] == "Ops <ops@ops.example>"
    assert nodes["settings"]["config"]["values"]["oncall"] == "pager@ops.example"
    async with db.sessionmaker() as s:
        link = await s.get(TemplateLink, wf["id"])
    assert (link.template_id, link.template_version) == ("notification", 1)
    assert link.params["team_email"] == "team@maily.example"            # defaults remembered

    sample = (await client.get("/api/templates/notification", headers=h)).json()["sample_input"]
    run = await client.post(f"/api/workflows/{wf['id']}/runs", json={"input": sample}, headers=h)
    assert run.status_code == 202, run.text
    done = await wait_for_end(client, h, run.json()["id"])
    assert done["status"] == "succeeded", done
    assert done["output"]["notified"] == {"severity": "critical", "sent": 1}
    outbox = (await client.get("/api/email/outbox", headers=h)).json()
    assert [m["recipient"] for m in outbox if m["run_id"] == done["id"]] == ["pager@ops.example"]


async def _counts(db, tenant_id):
    async with db.sessionmaker() as s:
        t = await s.scalar(sa.select(sa.func.count()).select_from(Template).where(Template.tenant_id == tenant_id))
        w = await s.scalar(sa.select(sa.func.count()).select_from(Workflow).where(Workflow.tenant_id == tenant_id))
    return t, w


HOSTILE = {
    "deep nesting": (b'{"graph": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "deeper"),
    "unknown node type": (json.dumps(_tiny(graph={**_tiny()["graph"], "nodes": [
        {"id": "x", "type": "system.exec", "config": {"cmd": "touch /tmp/pwned"}}], "edges": []})), 422, "system.exec"),
    "__proto__ key": (json.dumps(_tiny(sample_input={"__proto__": {"admin": True}})), 422, "__proto__"),
    "__proto__ in config": ('{"format_version": 2, "id": "p", "version": 1, "title": "P", "graph": {"schema_version": 1,'
                            ' "nodes": [{"id": "a", "type": "trigger.manual", "config": {"__proto__": 1}}]}}', 422,
                            "__proto__"),
    "megabyte string": (json.dumps(_tiny(description="x" * 1_000_000)), 422, "limit is"),
    "duplicate node ids": (json.dumps(_tiny(graph={**_tiny()["graph"], "nodes": _tiny()["graph"]["nodes"] * 2})), 422,
                           "duplicate node id"),
    "unknown key": (json.dumps(_tiny(run_on_import="rm -rf /")), 422, "run_on_import"),
    "remote $ref": (json.dumps(_tiny(parameters={"type": "object", "properties": {
        "x": {"$ref": "https://evil.example/schema.json"}}})), 422, "nothing is fetched"),
    "undeclared placeholder": (json.dumps(_tiny(parameters={"type": "object", "properties": {}})), 422, "greeting"),
    "too many nodes": (json.dumps(_tiny(graph={"schema_version": 1, "nodes": [
        {"id": f"n{i}", "type": "data.set"} for i in range(501)]})), 422, "at most 500"),
    "future format": (json.dumps(_tiny(format_version=9)), 422, "format_version 9"),
    "not JSON": (b"{'a': 1}", 400, "invalid JSON"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_uploads_answer_4xx_and_store_nothing(client, tenant_a, db, case):
    body, status, words = HOSTILE[case]
    r = await client.post("/api/templates/upload", content=body, headers={**tenant_a.editor.headers,
                                                                          "Content-Type": "application/json"})
    doc = assert_problem(r, status)
    assert words in doc["detail"], doc
    assert await _counts(db, tenant_a.id) == (0, 0)


async def test_upload_with_a_cycle_and_a_self_loop_answers_422_naming_both(client, tenant_a, db):
    """An uploaded graph with a two-node cycle and a self-loop is refused with every problem listed, and nothing is stored."""
    graph = _tiny()["graph"]
    extra = {"id": "echo", "type": "data.set", "type_version": 1, "position": {"x": 480, "y": 0}, "label": "Echo",
             "config": {"values": {}}}
    loop = {"id": "loop", "type": "data.set", "type_version": 1, "position": {"x": 480, "y": 200}, "label": "Loop",
            "config": {"values": {}}}
    wire = lambda i, a, b: {"id": i, "source": a, "source_port": "output", "target": b, "target_port": "input"}  # noqa: E731
    doc = _tiny(graph={**graph, "nodes": graph["nodes"] + [extra, loop],
                       "edges": [wire("e1", "say", "echo"), wire("e2", "echo", "say"), wire("e3", "loop", "loop")]})
    r = await client.post("/api/templates/upload", json=doc, headers=tenant_a.editor.headers)
    body = assert_problem(r, 422)
    cycles = [e for e in body["errors"] if e["code"] == "cycle"]
    assert {tuple(sorted(e["node_ids"])) for e in cycles} == {("echo", "say"), ("loop",)}, body
    assert await _counts(db, tenant_a.id) == (0, 0)


async def test_a_100_mb_upload_is_refused_before_it_is_read(client, tenant_a, db):
    body = b'{"x": "' + b"a" * (100 * 1024 * 1024) + b'"}'
    r = await client.post("/api/templates/upload", content=body, headers={**tenant_a.editor.headers,
                                                                          "Content-Type": "application/json"})
    assert_problem(r, 413)
    assert await _counts(db, tenant_a.id) == (0, 0)


async def test_upload_migrates_older_formats_and_wraps_bare_graphs(client, tenant_a):
    h = tenant_a.editor.headers
    v1 = {"format_version": 1, "id": "old", "version": "1.2", "name": "Old one", "summary": "from format 1",
          "params": [{"name": "greeting", "type": "string", "default": "Hi"}],
          "graph": {"name": "Old", "nodes": [{"id": "start", "type": "trigger.manual", "x": 1, "y": 2},
                                             {"id": "say", "type": "data.set", "params": {"values": {"t": "$param:greeting"}}}],
                    "edges": [{"from": "start.output", "to": "say.input"}]}}
    r = await client.post("/api/templates/upload", json=v1, headers=h)
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["title"], t["version"], t["visibility"], t["editable"]) == ("Old one", 1002, "private", True)
    assert t["graph"]["nodes"][1]["config"]["values"]["t"] == {"$param": "greeting"}
    bare = json.loads(json.dumps(_tiny()["graph"]).replace('{"$param": "greeting"}', '"Hello"')) | {"name": "Bare graph"}
    r = await client.post("/api/templates/upload", json=bare, headers=h)
    assert r.status_code == 201 and r.json()["title"] == "Bare graph", r.text
    bare["nodes"][1]["config"]["values"]["text"] = {"$param": "greeting"}    # a placeholder needs a parameter
    assert_problem(await client.post("/api/templates/upload", json=bare, headers=h), 422)


async def test_sharing_owners_and_tenant_isolation(client, tenant_a, tenant_b):
    a_ed, a_own, b = tenant_a.editor.headers, tenant_a.owner.headers, tenant_b.owner.headers
    assert_problem(await client.post("/api/templates/upload", json=_tiny(), headers=tenant_a.viewer.headers), 403)
    tid = (await client.post("/api/templates/upload", json=_tiny(), headers=a_ed)).json()["id"]
    # private: only its owner
    assert (await client.get(f"/api/templates/{tid}", headers=a_ed)).status_code == 200
    assert_problem(await client.get(f"/api/templates/{tid}", headers=a_own), 404)
    assert_problem(await client.get(f"/api/templates/{tid}", headers=b), 404)
    assert tid not in {t["id"] for t in (await client.get("/api/templates", headers=b)).json()["items"]}
    assert_problem(await client.post(f"/api/templates/{tid}/import", json={}, headers=b), 404)
    # workspace: the tenant, not the other tenant
    r = await client.put(f"/api/templates/{tid}", json={"visibility": "workspace"}, headers=a_ed)
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    assert (await client.get(f"/api/templates/{tid}", headers=tenant_a.viewer.headers)).status_code == 200
    assert_problem(await client.get(f"/api/templates/{tid}", headers=b), 404)
    # only the owner edits or deletes, even a tenant owner cannot
    assert_problem(await client.put(f"/api/templates/{tid}", json={"title": "Mine"}, headers=a_own), 403)
    assert_problem(await client.delete(f"/api/templates/{tid}", headers=a_own), 403)
    # public: every tenant sees and imports it, nobody else edits it
    await client.put(f"/api/templates/{tid}", json={"visibility": "public"}, headers=a_ed)
    assert (await client.get(f"/api/templates/{tid}", headers=b)).json()["editable"] is False
    r = await client.post(f"/api/templates/{tid}/import", json={"params": {"greeting": "Hey"}}, headers=b)
    assert r.status_code == 201 and r.json()["tenant_id"] == tenant_b.id
    assert_problem(await client.put(f"/api/templates/{tid}", json={"title": "x"}, headers=b), 403)
    assert_problem(await client.delete(f"/api/templates/{tid}", headers=b), 403)
    assert_problem(await client.put("/api/templates/notification", json={"title": "x"}, headers=a_ed), 403)
    assert (await client.delete(f"/api/templates/{tid}", headers=a_ed)).status_code == 204
    assert_problem(await client.get(f"/api/templates/{tid}", headers=a_ed), 404)
    # the workflow made from it keeps working, it just has no more updates
    upd = (await client.get(f"/api/workflows/{r.json()['id']}/template-update", headers=b)).json()
    assert upd["available"] is False and upd["update_available"] is False


def _node(graph, node_id):
    return next(n for n in graph["nodes"] if n["id"] == node_id)


async def test_save_as_template_update_and_three_way_merge(client, tenant_a, tenant_b):
    h = tenant_a.editor.headers
    # the author's workflow, saved as a template v1 with a parameter
    src = (await client.post("/api/workflows", json={"name": "src", "graph": _tiny()["graph"]}, headers=h)).json()
    r = await client.post("/api/templates", json={"workflow_id": src["id"], "title": "Greeter", "visibility": "public",
                                                  "parameters": _tiny()["parameters"], "tags": ["greeting"]}, headers=h)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert_problem(await client.post("/api/templates", json={"workflow_id": src["id"], "title": "x"},
                                     headers=tenant_a.viewer.headers), 403)
    assert_problem(await client.post("/api/templates", json={"workflow_id": src["id"], "title": "x"},
                                     headers=tenant_b.editor.headers), 404)
    # another tenant imports it and changes its draft: the label of `say`
    hb = tenant_b.editor.headers
    wf = (await client.post(f"/api/templates/{tid}/import", json={"params": {"greeting": "Hi"}}, headers=hb)).json()
    mine = wf["graph"]
    _node(mine, "say")["label"] = "My label"
    assert (await client.put(f"/api/workflows/{wf['id']}", json={"graph": mine}, headers=hb)).status_code == 200
    none = (await client.get(f"/api/workflows/{wf['id']}/template-update", headers=hb)).json()
    assert none["update_available"] is False and none["current_version"] == 1
    assert_problem(await client.post(f"/api/workflows/{wf['id']}/template-update/merge", headers=hb), 400)
    # the author changes the config of `say` and adds a node: version 2
    g = src["graph"]
    _node(g, "say")["config"]["values"]["who"] = "{{ trigger.name | upper }}"
    g["nodes"].append({"id": "done", "type": "data.set", "type_version": 1, "position": {"x": 480, "y": 0},
                       "label": "Done", "config": {"values": {"ok": True}}})
    g["edges"].append({"id": "e2", "source": "say", "source_port": "output", "target": "done", "target_port": "input"})
    await client.put(f"/api/workflows/{src['id']}", json={"graph": g}, headers=h)
    r = await client.put(f"/api/templates/{tid}", json={"workflow_id": src["id"]}, headers=h)
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    upd = (await client.get(f"/api/workflows/{wf['id']}/template-update", headers=hb)).json()
    assert upd["update_available"] and (upd["current_version"], upd["latest_version"]) == (1, 2)
    assert [n["id"] for n in upd["diff"]["nodes"]["added"]] == ["done"]
    assert upd["diff"]["nodes"]["changed"][0]["changes"][0]["pointer"] == "/config/values/who"
    assert upd["conflicts"] == []
    assert_problem(await client.post(f"/api/workflows/{wf['id']}/template-update/merge",
                                     headers=tenant_b.viewer.headers), 403)
    merged = (await client.post(f"/api/workflows/{wf['id']}/template-update/merge", headers=hb)).json()
    assert merged["conflicts"] == [] and merged["to_version"] == 2
    now = (await client.get(f"/api/workflows/{wf['id']}", headers=hb)).json()["graph"]
    say = _node(now, "say")
    assert say["label"] == "My label"                                   # ours kept
    assert say["config"]["values"] == {"text": "Hi", "who": "{{ trigger.name | upper }}"}  # theirs applied
    assert {n["id"] for n in now["nodes"]} == {"start", "say", "done"} and len(now["edges"]) == 2
    assert (await client.get(f"/api/workflows/{wf['id']}/template-update", headers=hb)).json()["update_available"] is False
    # both change the same field: ours kept, the conflict reported
    _node(now, "done")["config"]["values"]["ok"] = "mine"
    await client.put(f"/api/workflows/{wf['id']}", json={"graph": now}, headers=hb)
    _node(g, "done")["config"]["values"]["ok"] = "theirs"
    await client.put(f"/api/workflows/{src['id']}", json={"graph": g}, headers=h)
    await client.put(f"/api/templates/{tid}", json={"workflow_id": src["id"]}, headers=h)
    merged = (await client.post(f"/api/workflows/{wf['id']}/template-update/merge", headers=hb)).json()
    assert [c["pointer"] for c in merged["conflicts"]] == ["/nodes/done/config/values/ok"]
    assert merged["conflicts"][0]["ours"] == "mine" and merged["conflicts"][0]["theirs"] == "theirs"
    assert _node(merged["graph"], "done")["config"]["values"]["ok"] == "mine"


async def test_a_workflow_not_made_from_a_template_has_nothing_to_update(client, tenant_a, tenant_b):
    """The canvas asks on every open: a workflow of one's own answers 200 with no template and
    nothing to update, and another workspace's workflow is still a 404."""
    h = tenant_a.editor.headers
    r = await client.post("/api/workflows", json={"name": "own"}, headers=h)
    wf = r.json()["id"]
    up = await client.get(f"/api/workflows/{wf}/template-update", headers=tenant_a.viewer.headers)
    assert up.status_code == 200, up.text
    assert up.json()["template_id"] is None and up.json()["update_available"] is False
    assert_problem(await client.get(f"/api/workflows/{wf}/template-update", headers=tenant_b.editor.headers), 404)
    assert_problem(await client.post(f"/api/workflows/{wf}/template-update/merge", headers=h), 404)
