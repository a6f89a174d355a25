"""flows/secrets_scan.py: literal secrets in node configs are found (with a pointer and a vault type
to move them into), expressions and ordinary values are not, and a finding never repeats the value."""

from __future__ import annotations

import base64

import pytest

from flows.secrets_scan import scan_graph


def _graph(config: dict) -> dict:
    return {"nodes": [{"id": "call", "type": "http.request", "config": config}]}


@pytest.mark.parametrize(("config", "field", "kind", "suggested"), [
    ({"headers": {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig"}}, "/headers/Authorization", "bearer", "bearer"),
    ({"headers": {"Authorization": "Basic " + base64.b64encode(b"ada:hunter2-long").decode()}},
     "/headers/Authorization", "basic", "basic"),
    ({"headers": {"X-Api-Key": "sk-proj-AbCdEfGhIjKlMnOpQrStUv"}}, "/headers/X-Api-Key", "key", "header"),
    ({"query": {"token": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}}, "/query/token", "key", "query"),
    ({"url": "https://api.example.com/v1?key=AKIAABCDEFGHIJKLMNOP"}, "/url", "key", "query"),
    ({"body": {"slack": "xoxb-1234567890-abcdefghij"}}, "/body/slack", "key", "header"),
    ({"headers": {"X-Token": "Zk3q9XvT7bLp2RmW8nYc4HdJ6sGa1FeQ"}}, "/headers/X-Token", "key", "header"),
    ({"headers": {"a/b": "Bearer abcdefghijklmnopqrstuvwxyz"}}, "/headers/a~1b", "bearer", "bearer"),
    ({"url": "https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/abcdEFGHijklMNOPqrstUVWX"}, "/url", "key",
     "webhook_url"),
    ({"url": "https://discord.com/api/webhooks/1180000000000000001/Xy-z_123abc"}, "/url", "key", "webhook_url"),
    ({"url": "https://contoso.webhook.office.com/webhookb2/1a2b@3c4d/IncomingWebhook/5e6f/7a8b"}, "/url", "key",
     "webhook_url"),
    ({"url": "https://prod-12.westus.logic.azure.com:443/workflows/0a1b2c/triggers/manual/paths/invoke"
             "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=aBcD-eFgH_iJkL"}, "/url", "key",
     "webhook_url"),
])
def test_secret_looking_values_are_found(config, field, kind, suggested):
    """Bearer, Basic and key-shaped values: one finding with the pointer, kind and suggested vault type."""
    [finding] = scan_graph(_graph(config))
    assert (finding["node_id"], finding["field"], finding["kind"], finding["suggested_type"]) == ("call", field, kind, suggested)
    assert field in finding["message"]


@pytest.mark.parametrize("value", [
    "Bearer {{ secrets.github }}",
    "{{ vars.api_key }}",
    "Bearer {{ 'sk-proj-AbCdEfGhIjKlMnOpQrStUv' }}",
    "https://api.example.com/v1/customers?limit=100",
    "6f1c2d8e9a7b4c3d2e1f0a9b8c7d6e5f",              # a credential id (hex)
    "550e8400-e29b-41d4-a716-446655440000",          # a UUID
    "The quick brown fox jumps over the lazy dog again and again",
    "Basic realm stuff that is not base64 at all",
    "application/vnd.github+json",
    "https://hooks.slack.com/",                        # no hook in it
    "https://discord.com/api/webhooks/{{ vars.hook }}",
])
def test_expressions_and_ordinary_values_are_not_reported(value):
    """Expressions are references; ids, UUIDs, prose and URLs without keys are not secrets."""
    assert scan_graph(_graph({"headers": {"X": value}})) == []


def test_a_finding_never_contains_the_value():
    """The message names the node and the field, never the secret."""
    token = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx"
    findings = scan_graph(_graph({"headers": {"Authorization": f"Bearer {token}"}, "x": token}))
    assert len(findings) == 2 and all(token not in str(f) for f in findings)


def test_malformed_graphs_give_no_findings():
    """Whatever shape arrives, the scan answers a list (the API never 500s on it)."""
    for graph in (None, [], {"nodes": "x"}, {"nodes": [1, {"id": "n"}, {"id": "m", "config": "str"}]}):
        assert scan_graph(graph) == []
