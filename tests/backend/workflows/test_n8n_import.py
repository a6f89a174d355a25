"""POST /api/workflows/import/n8n: an n8n export becomes a draft in the caller's workspace that
validates and runs; credentials become empty vault entries the nodes reference; schedules and
webhooks are created as a template import creates them; bad bodies are problem+json."""

from __future__ import annotations

import copy
import json

import pytest

from backend.credentials.envelope import Keyring
from backend.credentials.resolver import DbCredentialStore
from backend.settings import Settings
from nodes.errors import NodeConfigError
from tests.backend.conftest import assert_problem
from tests.backend.runs.test_controllers import wait_for_end
from tests.backend.workflows.n8n_exports import ORDER_FLOW, SERVICES_FLOW, main, node

URL = "/api/workflows/import/n8n"


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, secret_key="test-secret-key", prefect="never",
                    prefect_at_start=False)


async def _import(client, member, doc) -> dict:
    r = await client.post(URL, content=json.dumps(doc), headers={**member.headers, "content-type": "application/json"})
    assert r.status_code == 201, r.text
    return r.json()


def _status(out: dict) -> dict[str, str]:
    return {line["node"]: line["status"] for line in out["report"]}


class TestOrderFlowRuns:
    async def test_imported_draft_opens_validates_and_keeps_positions_and_the_note(self, client, tenant_a, tenant_b):
        """The draft is stored in the workspace, validates, keeps n8n's positions, and the sticky note is a canvas note."""
        out = await _import(client, tenant_a.editor, ORDER_FLOW)
        assert out["validation"]["ok"], out["validation"]
        wf = (await client.get(f"/api/workflows/{out['id']}", headers=tenant_a.viewer.headers)).json()
        assert wf["name"] == "Order triage" and wf["validation"]["ok"]
        by_id = {n["id"]: n for n in wf["graph"]["nodes"]}
        assert by_id["Big_order"]["position"] == {"x": 600.0, "y": 0.0} and by_id["Big_order"]["label"] == "Big order?"
        assert [(n["text"], n["color"], n["width"]) for n in wf["graph"]["notes"]] == [
            ("## Order triage\nBig orders get a size.", "blue", 300.0)]
        assert _status(out) == {"Start": "mapped", "Prepare": "partial", "Double": "partial", "Big order?": "mapped",
                                "Big": "mapped", "Small": "mapped", "Done": "partial", "Sticky Note": "mapped"}
        other = await client.get(f"/api/workflows/{out['id']}", headers=tenant_b.editor.headers)
        assert other.status_code == 404

    async def test_the_imported_workflow_runs_end_to_end(self, client, tenant_a):
        """manual trigger -> set -> code (through the shim) -> if -> set: the true branch runs and reads another node."""
        out = await _import(client, tenant_a.editor, ORDER_FLOW)
        h = tenant_a.editor.headers
        r = await client.post(f"/api/workflows/{out['id']}/runs",
                              json={"input": {"total": 150, "customer": {"name": "Ada"}}}, headers=h)
        assert r.status_code == 202, r.text
        run = await wait_for_end(client, h, r.json()["id"], timeout=60)
        assert run["status"] == "succeeded", run
        nodes = {n["node_id"]: n for n in run["nodes"] if n["iteration"] is None}
        expected = {"total": 150, "customer": "Ada", "doubled": 300, "size": "big", "who": "Ada"}
        assert nodes["Done"]["output"] == {"output": expected}
        assert nodes["Small"]["status"] == "skipped"

    async def test_the_false_branch_takes_small_orders(self, client, tenant_a):
        """With a small total the IF's false output (n8n output 1) runs Small instead."""
        out = await _import(client, tenant_a.editor, ORDER_FLOW)
        h = tenant_a.editor.headers
        r = await client.post(f"/api/workflows/{out['id']}/runs",
                              json={"input": {"total": 20, "customer": {"name": "Bo"}}}, headers=h)
        run = await wait_for_end(client, h, r.json()["id"], timeout=60)
        nodes = {n["node_id"]: n for n in run["nodes"] if n["iteration"] is None}
        assert run["status"] == "succeeded", run
        assert nodes["Done"]["output"]["output"]["size"] == "small" and nodes["Big"]["status"] == "skipped"


class TestServicesFlow:
    async def test_credential_becomes_an_empty_vault_entry_the_node_references(self, client, tenant_a):
        """The header credential is created empty in the vault, named after n8n's, and set on the HTTP node."""
        out = await _import(client, tenant_a.editor, SERVICES_FLOW)
        [cred] = out["credentials"]
        assert (cred["name"], cred["type"], cred["created"], cred["node_ids"]) == (
            "CRM key (from n8n)", "header", True, ["Call_CRM"])
        wf = (await client.get(f"/api/workflows/{out['id']}", headers=tenant_a.editor.headers)).json()
        http = next(n for n in wf["graph"]["nodes"] if n["id"] == "Call_CRM")
        assert http["config"] == {"method": "POST", "url": "https://crm.example.com/orders/{{ input.body.id }}",
                                  "body": {"status": "new"}, "credential": cred["id"]}
        listed = (await client.get("/api/credentials", headers=tenant_a.editor.headers)).json()
        assert [(c["name"], c["fields"]) for c in listed] == [("CRM key (from n8n)", {})]
        again = await _import(client, tenant_a.editor, SERVICES_FLOW)
        assert [(c["id"], c["created"]) for c in again["credentials"]] == [(cred["id"], False)]

    async def test_an_empty_entry_fails_the_node_until_filled_in(self, client, db, tenant_a):
        """Resolving the empty entry names the missing fields; after a PATCH with them it resolves."""
        out = await _import(client, tenant_a.editor, SERVICES_FLOW)
        cid = out["credentials"][0]["id"]
        store = DbCredentialStore(db, Keyring("test-secret-key"))
        with pytest.raises(NodeConfigError, match="not filled in: enter name, value") as exc:
            await store.resolve(tenant_a.id, cid, ("header",))
        assert exc.value.pointer == "/credential"
        half = await client.patch(f"/api/credentials/{cid}", json={"data": {"name": "X-Key"}},
                                  headers=tenant_a.editor.headers)
        assert_problem(half, 422)
        r = await client.patch(f"/api/credentials/{cid}", json={"data": {"name": "X-Key", "value": "s3cret-key"}},
                               headers=tenant_a.editor.headers)
        assert r.status_code == 200, r.text
        resolved = await store.resolve(tenant_a.id, cid, ("header",))
        assert resolved.fields == {"name": "X-Key", "value": "s3cret-key"}

    async def test_schedule_and_webhook_are_created_like_a_template_import(self, client, tenant_a):
        """The schedule starts disabled with n8n's cron (seconds field dropped) and zone; the webhook answers from its node."""
        out = await _import(client, tenant_a.editor, SERVICES_FLOW)
        by_type = {t["type"]: t for t in out["triggers"]}
        sch, hook = by_type["schedule"], by_type["webhook"]
        assert (sch["cron"], sch["timezone"], sch["enabled"], sch["node_id"]) == (
            "30 8 * * 1-5", "Europe/Paris", False, "Every_morning")
        assert hook["respond"] == "node" and hook["secret"] and hook["url"].endswith(f"/hooks/{hook['id']}")
        listed = (await client.get(f"/api/workflows/{out['id']}/webhooks", headers=tenant_a.editor.headers)).json()
        assert [w["id"] for w in listed] == [hook["id"]] and "secret" not in listed[0]

    async def test_email_respond_and_the_unmapped_node(self, client, tenant_a):
        """Send Email is compose + send; Respond answers n8n's JSON; Google Sheets becomes a note and its edge is reported."""
        out = await _import(client, tenant_a.editor, SERVICES_FLOW)
        wf = (await client.get(f"/api/workflows/{out['id']}", headers=tenant_a.editor.headers)).json()
        by_id = {n["id"]: n for n in wf["graph"]["nodes"]}
        assert by_id["Mail_team"]["config"] == {"subject": "Order {{ nodes.Hook.output.body.id }}",
                                                "text": "A new order came in."}
        assert by_id["Mail_team_send"]["config"] == {"sender": "shop@example.com", "unsubscribe": False,
                                                     "to": ["team@example.com", "boss@example.com"]}
        assert by_id["Reply"]["config"] == {"status": 201, "headers": {}, "body": "{{ input.body }}"}
        edges = {(e["source"], e["source_port"], e["target"], e["target_port"]) for e in wf["graph"]["edges"]}
        assert ("Reply", "output", "Mail_team", "input") in edges
        assert ("Mail_team", "output", "Mail_team_send", "message") in edges
        sheets = next(line for line in out["report"] if line["node"] == "Sheets")
        assert sheets["status"] == "unmapped" and any("Every morning" in n for n in sheets["notes"])
        assert any("googleSheets" in n["text"] for n in wf["graph"]["notes"])
        assert out["validation"]["ok"], out["validation"]


class TestWebhookRoundTrip:
    async def test_webhook_and_respond_answer_a_delivery_as_in_n8n(self, client, tenant_a):
        """Webhook (respond from node) -> Respond to Webhook (JSON `$json.body`, code 201): published, a signed
        delivery is answered with 201 and the posted body."""
        doc = {"name": "Echo", "nodes": [
            node("Hook", "webhook", 2, 0, 0, httpMethod="POST", path="echo", responseMode="responseNode"),
            node("Answer", "respondToWebhook", 1.1, 200, 0, respondWith="json", responseBody="={{ $json.body }}",
                 options={"responseCode": 201})], "connections": {"Hook": main(["Answer"])}}
        out = await _import(client, tenant_a.editor, doc)
        h = tenant_a.editor.headers
        assert (await client.post(f"/api/workflows/{out['id']}/publish", json={}, headers=h)).status_code == 201
        [hook] = out["triggers"]
        r = await client.post(f"/api/workflows/{out['id']}/webhooks/{hook['id']}/test",
                              json={"method": "POST", "body": {"order": 7, "items": ["a"]}}, headers=h)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["body"]) == (201, {"order": 7, "items": ["a"]})


class TestRefusals:
    async def test_viewers_may_not_import(self, client, tenant_a):
        """Importing creates a workflow: viewers get 403."""
        r = await client.post(URL, json=ORDER_FLOW, headers=tenant_a.viewer.headers)
        assert_problem(r, 403)

    @pytest.mark.parametrize("body, status, words", [
        (b"", 400, "empty"), (b"{nope", 400, "line 1"), (b"[" * 100 + b"]" * 100, 400, "deep"),
    ])
    async def test_bad_json_is_400(self, client, tenant_a, body, status, words):
        """An empty, malformed or too deep body is a 400 saying what is wrong."""
        r = await client.post(URL, content=body, headers={**tenant_a.editor.headers, "content-type": "application/json"})
        assert words in assert_problem(r, status)["detail"]

    async def test_too_large_is_413(self, client, tenant_a):
        """A body over the template import limit (2 MB) is a 413."""
        doc = copy.deepcopy(ORDER_FLOW)
        doc["nodes"][0]["notes"] = "x" * (2 * 1024 * 1024)
        r = await client.post(URL, json=doc, headers=tenant_a.editor.headers)
        assert_problem(r, 413)

    async def test_text_postgresql_cannot_store_is_422(self, client, tenant_a):
        """A NUL character in the export is refused naming its field, before anything is stored."""
        doc = copy.deepcopy(ORDER_FLOW)
        doc["nodes"][1]["parameters"]["options"] = {"x": "a\u0000b"}
        r = await client.post(URL, json=doc, headers=tenant_a.editor.headers)
        assert assert_problem(r, 422)["pointer"] == "/nodes/1/parameters/options/x"

    @pytest.mark.parametrize("doc, pointer", [
        ({"name": "x"}, "/nodes"),
        ({"nodes": [{"name": "a", "type": "n8n-nodes-base.noOp", "typeVersion": "one"}]}, "/nodes/0/typeVersion"),
        ({"schema_version": 1, "nodes": [], "edges": []}, ""),
    ])
    async def test_not_an_export_is_422_naming_the_field(self, client, tenant_a, doc, pointer):
        """JSON that is not an n8n export is a 422 whose pointer names the field; nothing is stored."""
        r = await client.post(URL, json=doc, headers=tenant_a.editor.headers)
        assert assert_problem(r, 422)["pointer"] == pointer
        listed = (await client.get("/api/workflows", headers=tenant_a.editor.headers)).json()
        assert listed == []
