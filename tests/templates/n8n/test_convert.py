"""n8n exports from the n8n repository (fixtures/README.md) and hand-written ones become graphs our
validator accepts, with IF / Switch branches on the right ports, positions kept, and a report line
per n8n node; what has no equivalent becomes a canvas note holding the node's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.validate import validate_graph
from nodes.registry import default_registry
from templates.n8n import N8nExportError, convert

FIXTURES = Path(__file__).parent / "fixtures"
REGISTRY = default_registry()


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _errors(graph: dict) -> list[dict]:
    return [p for p in validate_graph(graph, REGISTRY).to_json()["problems"] if p["severity"] == "error"]


def _edges(graph: dict) -> set[tuple[str, str, str]]:
    return {(e["source"], e["source_port"], e["target"]) for e in graph["edges"]}


class TestRepositoryFixtures:
    @pytest.mark.parametrize("name", ["IfV2.number.json", "switch.rules.workflow.json", "workflow.get.json",
                                      "Set.workflow.json"])
    def test_every_fixture_validates_and_reports_each_node(self, name):
        """The graph has no validation errors and the report has one line per n8n node, in order."""
        raw = _load(name)
        out = convert(raw)
        assert _errors(out.graph) == []
        assert [r["node"] for r in out.report] == [n["name"] for n in raw["nodes"]]
        assert all(r["status"] in ("mapped", "partial", "unmapped") for r in out.report)

    def test_if_v2_branches_and_combined_condition(self):
        """IF v2's two conditions joined by `or` become one Jinja condition; output 0 is `true`, 1 is `false`."""
        out = convert(_load("IfV2.number.json"))
        node = next(n for n in out.graph["nodes"] if n["id"] == "If")
        assert node["config"] == {"mode": "expression", "condition": "{{ (input.count == 1) or (input.count > 10) }}"}
        assert node["position"] == {"x": 380.0, "y": 480.0}
        assert _edges(out.graph) == {("If", "true", "Then"), ("If", "false", "Else")}

    def test_a_node_of_another_package_becomes_a_note_with_its_json(self):
        """The testData node is unmapped: a canvas note holds its original JSON and the report says so."""
        raw = _load("IfV2.number.json")
        out = convert(raw)
        line = next(r for r in out.report if r["node"] == "Code")
        assert line["status"] == "unmapped" and "n8n-nodes-testing.testData" in line["notes"][0]
        note = next(n for n in out.graph["notes"] if n["id"] == "Code")
        original = json.loads(note["text"].split("```json\n", 1)[1].rsplit("\n```", 1)[0])
        assert original == raw["nodes"][1]
        assert note["position"] == {"x": 160.0, "y": 480.0}

    def test_a_note_made_of_an_unmapped_node_leaves_out_what_looks_like_a_secret(self):
        """An unmapped node's parameters holding a bearer token and an API key reach its note as
        REMOVED markers, never the values; the report says how many were left out."""
        from flows.secrets_scan import REMOVED

        raw = _load("IfV2.number.json")
        token, key = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.Zm9vYmFyYmF6", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
        raw["nodes"][1]["parameters"] = {"auth": token, "nested": [{"apiKey": key}], "plain": "just words here, nothing"}
        out = convert(raw)
        note = next(n for n in out.graph["notes"] if n["id"] == "Code")
        assert token not in note["text"] and key not in note["text"]
        kept = json.loads(note["text"].split("```json\n", 1)[1].rsplit("\n```", 1)[0])["parameters"]
        assert kept == {"auth": REMOVED, "nested": [{"apiKey": REMOVED}], "plain": "just words here, nothing"}
        line = next(r for r in out.report if r["node"] == "Code")
        assert any("2 value(s) that looked like secrets" in n for n in line["notes"])

    def test_switch_v3_rules_fallback_and_labels(self):
        """Switch v3 rules become cases on one value; the fallback shares output 2, joined in front of its target."""
        out = convert(_load("switch.rules.workflow.json"))
        sw = next(n for n in out.graph["nodes"] if n["id"] == "Switch1")
        assert sw["config"]["value"] == "{{ input.output }}"
        assert [(c["op"], c["value"], c["label"]) for c in sw["config"]["cases"]] == [
            ("eq", "first", "First Output"), ("eq", "second", "Second Output"), ("eq", "third", "Third Output")]
        join = "No_Operation_do_nothing2_join"
        assert _edges(out.graph) == {
            ("Switch1", "case_1", "No_Operation_do_nothing"), ("Switch1", "case_2", "No_Operation_do_nothing1"),
            ("Switch1", "case_3", join), ("Switch1", "default", join), (join, "output", "No_Operation_do_nothing2")}
        assert next(n for n in out.graph["nodes"] if n["id"] == join)["config"] == {"mode": "first"}

    def test_http_request_v3_query_and_headers(self):
        """HTTP Request v3 key/value query and headers land in http.request's query and headers."""
        out = convert(_load("workflow.get.json"))
        by_id = {n["id"]: n["config"] for n in out.graph["nodes"]}
        assert by_id["HTTP_Request_with_query"] == {"method": "GET", "url": "https://dummyjson.com/todos",
                                                    "query": {"limit": "2", "skip": "10"}}
        assert by_id["HTTP_Request_fake_header"]["headers"] == {"Authorization": "Bearer 12345"}
        assert all(r["status"] == "mapped" for r in out.report)


class TestBadExports:
    @pytest.mark.parametrize("raw, pointer", [
        ([], ""), ({"name": "x"}, "/nodes"), ({"nodes": [{"name": "a"}]}, "/nodes/0/type"),
        ({"nodes": [{"name": "a", "type": "t"}, {"name": "a", "type": "t"}]}, "/nodes/1/name"),
        ({"nodes": [{"name": "a", "type": "t", "position": "here"}]}, "/nodes/0/position"),
        ({"nodes": [{"name": "a", "type": "t"}], "connections": {"b": {}}}, "/connections/b"),
        ({"nodes": [{"name": "a", "type": "t"}], "connections": {"a": {"main": [[{"node": "zz"}]]}}},
         "/connections/a/main/0/0"),
        ({"schema_version": 1, "nodes": []}, ""),
    ])
    def test_not_an_export_names_the_field(self, raw, pointer):
        """What is not an n8n export is refused with a pointer to the field at fault."""
        with pytest.raises(N8nExportError) as exc:
            convert(raw)
        assert exc.value.pointer == pointer
