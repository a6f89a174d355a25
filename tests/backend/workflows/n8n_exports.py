"""Hand-written n8n exports (the shape n8n's Download writes) for the import API tests; the
exports taken from the n8n repository are in tests/templates/n8n/fixtures."""

from __future__ import annotations

from typing import Any


def node(name: str, type_: str, version: float, x: float, y: float, **parameters: Any) -> dict[str, Any]:
    return {"parameters": parameters, "id": f"id-{name}", "name": name, "type": f"n8n-nodes-base.{type_}",
            "typeVersion": version, "position": [x, y]}


def main(*outputs: list[str]) -> dict[str, Any]:
    return {"main": [[{"node": t, "type": "main", "index": 0} for t in targets] for targets in outputs]}


ORDER_FLOW = {
    "name": "Order triage",
    "nodes": [
        node("Start", "manualTrigger", 1, 0, 0),
        node("Prepare", "set", 3.4, 200, 0, assignments={"assignments": [
            {"id": "a1", "name": "total", "type": "number", "value": "={{ $json.total }}"},
            {"id": "a2", "name": "customer", "type": "string", "value": "={{ $json.customer.name }}"}]}, options={}),
        node("Double", "code", 2, 400, 0,
             jsCode="return $input.all().map(i => ({ json: { ...i.json, doubled: i.json.total * 2 } }));"),
        node("Big order?", "if", 2.2, 600, 0, conditions={
            "options": {"caseSensitive": True, "leftValue": "", "typeValidation": "strict", "version": 2},
            "conditions": [{"id": "c1", "leftValue": "={{ $json.doubled }}", "rightValue": 200,
                            "operator": {"type": "number", "operation": "gt"}}], "combinator": "and"}, options={}),
        node("Big", "set", 2, 800, -100, values={"string": [
            {"name": "size", "value": "big"}, {"name": "who", "value": "={{ $('Prepare').item.json.customer }}"}]},
             options={}),
        node("Small", "set", 1, 800, 100, values={"string": [{"name": "size", "value": "small"}]}, options={}),
        node("Done", "noOp", 1, 1000, 0),
        {**node("Sticky Note", "stickyNote", 1, -40, -200, content="## Order triage\nBig orders get a size.",
                height=160, width=300, color=5), "id": "note-1"},
    ],
    "connections": {"Start": main(["Prepare"]), "Prepare": main(["Double"]), "Double": main(["Big order?"]),
                    "Big order?": main(["Big"], ["Small"]), "Big": main(["Done"]), "Small": main(["Done"])},
    "settings": {"executionOrder": "v1"}, "pinData": {}, "active": False, "tags": [],
}

SERVICES_FLOW = {
    "name": "Orders in",
    "nodes": [
        node("Every morning", "scheduleTrigger", 1.2, 0, 300, rule={"interval": [
            {"field": "cronExpression", "expression": "0 30 8 * * 1-5"}]}),
        node("Hook", "webhook", 2, 0, 0, httpMethod="POST", path="orders", responseMode="responseNode", options={}),
        {**node("Call CRM", "httpRequest", 4.2, 200, 0, method="POST",
                url="=https://crm.example.com/orders/{{ $json.body.id }}", authentication="genericCredentialType",
                genericAuthType="httpHeaderAuth", sendBody=True, specifyBody="json", jsonBody='{"status": "new"}',
                options={}),
         "credentials": {"httpHeaderAuth": {"id": "7", "name": "CRM key"}}},
        node("Reply", "respondToWebhook", 1.1, 400, 0, respondWith="json", responseBody="={{ $json.body }}",
             options={"responseCode": 201}),
        {**node("Mail team", "emailSend", 2.1, 600, 0, fromEmail="shop@example.com",
                toEmail="team@example.com, boss@example.com", subject="=Order {{ $('Hook').item.json.body.id }}",
                emailFormat="text", text="A new order came in.", options={}),
         "credentials": {"smtp": {"id": "3", "name": "SMTP account"}}},
        node("Sheets", "googleSheets", 4.5, 200, 300, operation="append", sheetName={"__rl": True, "value": "x"}),
    ],
    "connections": {"Hook": main(["Call CRM"]), "Call CRM": main(["Reply"]), "Reply": main(["Mail team"]),
                    "Every morning": main(["Sheets"])},
    "settings": {"executionOrder": "v1", "timezone": "Europe/Paris"},
}
