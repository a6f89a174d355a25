"""Conflicts of a template update, settled by the user: each conflict names the node and the
field with both values; the merge takes the template's value where the user chose it and
keeps the draft's everywhere else (the default), in one collaborative edit; a choice that no
longer matches a conflict is a 409 and merges nothing."""

from __future__ import annotations

import copy

from tests.backend.conftest import assert_problem
from tests.backend.templates.test_templates_api import _node, _tiny


async def _conflicting_update(client, tenant):
    """A template v1 imported into a draft; the draft and v2 both change `say`'s text and label.
    `client`: the API test client or an httpx.AsyncClient on a live server (the browser test)."""
    h = tenant.editor.headers
    src = (await client.post("/api/workflows", json={"name": "src", "graph": _tiny()["graph"]}, headers=h)).json()
    tid = (await client.post("/api/templates", json={"workflow_id": src["id"], "title": "Greeter",
                                                     "visibility": "workspace",
                                                     "parameters": _tiny()["parameters"]}, headers=h)).json()["id"]
    wf = (await client.post(f"/api/templates/{tid}/import", json={"params": {"greeting": "Hi"}}, headers=h)).json()
    mine = copy.deepcopy(wf["graph"])
    _node(mine, "say")["config"]["values"]["who"] = "{{ trigger.mine }}"
    _node(mine, "say")["label"] = "My label"
    assert (await client.put(f"/api/workflows/{wf['id']}", json={"graph": mine}, headers=h)).status_code == 200
    g = src["graph"]
    _node(g, "say")["config"]["values"]["who"] = "{{ trigger.theirs }}"
    _node(g, "say")["label"] = "Their label"
    _node(g, "start")["label"] = "Begin"                              # no conflict: taken
    await client.put(f"/api/workflows/{src['id']}", json={"graph": g}, headers=h)
    assert (await client.put(f"/api/templates/{tid}", json={"workflow_id": src["id"]}, headers=h)).json()["version"] == 2
    return wf["id"]


WHO, LABEL = "/nodes/say/config/values/who", "/nodes/say/label"


async def test_the_update_lists_each_conflict_with_node_field_and_both_values(client, tenant_a):
    wf = await _conflicting_update(client, tenant_a)
    upd = (await client.get(f"/api/workflows/{wf}/template-update", headers=tenant_a.editor.headers)).json()
    got = {c["pointer"]: (c["element"], c["id"], c["field"], c["ours"], c["theirs"], c["choosable"])
           for c in upd["conflicts"]}
    assert got == {WHO: ("node", "say", "config.values.who", "{{ trigger.mine }}", "{{ trigger.theirs }}", True),
                   LABEL: ("node", "say", "label", "My label", "Their label", True)}


async def test_choices_are_applied_and_unchosen_conflicts_keep_mine(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await _conflicting_update(client, tenant_a)
    r = await client.post(f"/api/workflows/{wf}/template-update/merge", json={"choices": {WHO: "theirs"}}, headers=h)
    assert r.status_code == 200, r.text
    assert {c["pointer"]: c["resolution"] for c in r.json()["conflicts"]} == {WHO: "theirs", LABEL: "mine"}
    now = (await client.get(f"/api/workflows/{wf}", headers=h)).json()["graph"]
    assert _node(now, "say")["config"]["values"]["who"] == "{{ trigger.theirs }}"       # chosen: the template's
    assert _node(now, "say")["label"] == "My label"                                     # not chosen: mine
    assert _node(now, "start")["label"] == "Begin"                                      # no conflict: merged
    assert (await client.get(f"/api/workflows/{wf}/template-update", headers=h)).json()["update_available"] is False


async def test_without_choices_every_conflict_keeps_mine(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await _conflicting_update(client, tenant_a)
    r = await client.post(f"/api/workflows/{wf}/template-update/merge", json={"choices": {LABEL: "mine"}}, headers=h)
    assert {c["resolution"] for c in r.json()["conflicts"]} == {"mine"}
    say = _node((await client.get(f"/api/workflows/{wf}", headers=h)).json()["graph"], "say")
    assert (say["label"], say["config"]["values"]["who"]) == ("My label", "{{ trigger.mine }}")


async def test_a_stale_or_malformed_choice_merges_nothing(client, tenant_a):
    h = tenant_a.editor.headers
    wf = await _conflicting_update(client, tenant_a)
    before = (await client.get(f"/api/workflows/{wf}", headers=h)).json()["graph"]
    doc = assert_problem(await client.post(f"/api/workflows/{wf}/template-update/merge",
                                           json={"choices": {WHO: "theirs", "/nodes/gone/label": "theirs"}},
                                           headers=h), 409)
    assert doc["field"] == "choices" and "/nodes/gone/label" in doc["detail"] and doc["stale"] == ["/nodes/gone/label"]
    doc = assert_problem(await client.post(f"/api/workflows/{wf}/template-update/merge",
                                           json={"choices": {WHO: "yours"}}, headers=h), 422)
    assert "choices" in doc["detail"] or "choices" in str(doc.get("errors")), doc
    assert (await client.get(f"/api/workflows/{wf}", headers=h)).json()["graph"] == before
    upd = (await client.get(f"/api/workflows/{wf}/template-update", headers=h)).json()
    assert upd["update_available"] and upd["current_version"] == 1
