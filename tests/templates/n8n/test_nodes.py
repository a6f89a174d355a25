"""Each n8n node type onto ours, across the node versions n8n has written: the config each one gets,
its ports, and what is reported as partial or unmapped. The exports are hand-written in n8n's shape."""

from __future__ import annotations

import pytest

from flows.validate import validate_graph
from nodes.registry import default_registry
from templates.n8n import convert

REGISTRY = default_registry()


def _node(name, type_, version=1, **params):
    return {"name": name, "type": f"n8n-nodes-base.{type_}", "typeVersion": version, "position": [10, 20],
            "parameters": params}


def _one(type_, version=1, extra=None, **params):
    """Converts a manual trigger wired to one node; (our nodes of it, its report line, the whole result)."""
    node = {**_node("N", type_, version, **params), **(extra or {})}
    raw = {"nodes": [_node("Go", "manualTrigger"), node],
           "connections": {"Go": {"main": [[{"node": "N", "type": "main", "index": 0}]]}}}
    out = convert(raw)
    line = out.report[1]
    return [n for n in out.graph["nodes"] if n["id"] in line["node_ids"]], line, out


def _config(type_, version=1, **params):
    nodes, line, _ = _one(type_, version, **params)
    return nodes[0]["type"], nodes[0]["config"], line


def _valid(out) -> None:
    errors = [p for p in validate_graph(out.graph, REGISTRY).problems if p.severity == "error"]
    assert errors == []


class TestSet:
    def test_v1_groups_and_keep_only_set(self):
        """Set v1/v2: string/number/boolean groups become values; Keep Only Set turns keep_input off."""
        t, cfg, line = _config("set", 1, keepOnlySet=True, values={
            "string": [{"name": "a", "value": "x"}], "number": [{"name": "n", "value": 3}],
            "boolean": [{"name": "b", "value": True}]})
        assert (t, cfg, line["status"]) == ("data.set", {"values": {"a": "x", "n": 3, "b": True},
                                                         "keep_input": False}, "mapped")

    def test_v3_fields_convert_typed_literals(self):
        """Set v3 fields: a number given as text is a number, JSON text an array; include none drops the input."""
        _, cfg, line = _config("set", 3, include="none", fields={"values": [
            {"name": "n", "type": "numberValue", "numberValue": "5"},
            {"name": "l", "type": "arrayValue", "arrayValue": "[1, 2]"}, {"name": "s", "stringValue": "hi"}]})
        assert cfg == {"values": {"n": 5, "l": [1, 2], "s": "hi"}, "keep_input": False}
        assert line["status"] == "mapped"

    def test_v3_4_assignments_and_include_other_fields(self):
        """Set v3.3+: assignments; includeOtherFields keeps the input; a typed expression is noted as partial."""
        _, cfg, line = _config("set", 3.4, includeOtherFields=True, assignments={"assignments": [
            {"name": "total", "type": "number", "value": "={{ $json.amount }}"}]})
        assert cfg == {"values": {"total": "{{ input.amount }}"}, "keep_input": True}
        assert line["status"] == "partial" and "converts the expression's result to number" in line["notes"][0]

    def test_raw_mode_with_an_expression_is_unmapped(self):
        """Raw JSON mode whose JSON is an expression has no exact form: a note, not a guess."""
        nodes, line, out = _one("set", 3.4, mode="raw", jsonOutput="={{ $json }}")
        assert nodes == [] and line["status"] == "unmapped"
        assert any('"jsonOutput": "={{ $json }}"' in n["text"] for n in out.graph["notes"])


class TestTriggersAndWaits:
    @pytest.mark.parametrize("rule, cron", [
        ({"field": "minutes", "minutesInterval": 15}, "*/15 * * * *"),
        ({"field": "hours", "hoursInterval": 2, "triggerAtMinute": 5}, "5 */2 * * *"),
        ({"field": "days", "triggerAtHour": 9, "triggerAtMinute": 30}, "30 9 * * *"),
        ({"field": "weeks", "triggerAtDay": [1, 3], "triggerAtHour": 8}, "0 8 * * 1,3"),
        ({"field": "months", "triggerAtDayOfMonth": 15, "triggerAtHour": 6}, "0 6 15 * *"),
        ({"field": "cronExpression", "expression": "0 */10 * * * *"}, "*/10 * * * *"),
    ])
    def test_schedule_rules_become_crons(self, rule, cron):
        """Each Schedule Trigger rule gives one cron on a trigger.manual node (UTC when the export names no zone)."""
        out = convert({"nodes": [_node("Tick", "scheduleTrigger", 1.2, rule={"interval": [rule]})]})
        assert out.graph["nodes"][0]["type"] == "trigger.manual"
        assert [(t.type, t.data) for t in out.triggers] == [("schedule", {"cron": cron, "timezone": "UTC"})]
        assert "runs in UTC" in out.report[0]["notes"][-1]

    def test_seconds_schedule_and_bad_cron_are_unmapped(self):
        """A schedule in seconds, or a cron our scheduler refuses, is unmapped and creates nothing."""
        out = convert({"nodes": [_node("S", "scheduleTrigger", 1.2, rule={"interval": [{"field": "seconds"}]}),
                                 _node("C", "cron", 1, triggerTimes={"item": [{"mode": "custom",
                                                                               "cronExpression": "61 * * * *"}]})]})
        assert [r["status"] for r in out.report] == ["unmapped", "unmapped"] and out.triggers == []

    def test_old_cron_node_modes(self):
        """The older Cron node's everyDay/everyWeek become crons in the workflow's time zone."""
        out = convert({"nodes": [_node("C", "cron", 1, triggerTimes={"item": [
            {"mode": "everyDay", "hour": 7, "minute": 15}, {"mode": "everyWeek", "hour": 9, "weekday": "5"}]})],
            "settings": {"timezone": "Europe/Berlin"}})
        assert [t.data for t in out.triggers] == [{"cron": "15 7 * * *", "timezone": "Europe/Berlin"},
                                                  {"cron": "0 9 * * 5", "timezone": "Europe/Berlin"}]

    def test_webhook_trigger(self):
        """Webhook: its method, and a webhook to create answering from a Respond node; partial for the URL."""
        out = convert({"nodes": [_node("In", "webhook", 2, httpMethod="PUT", path="p", responseMode="responseNode")]})
        assert out.graph["nodes"][0]["config"]["methods"] == ["PUT"]
        assert out.triggers[0].data["respond"] == "node" and out.report[0]["status"] == "partial"

    @pytest.mark.parametrize("version, params, config, status", [
        (1.1, {"amount": 2, "unit": "minutes"}, {"seconds": 120.0}, "mapped"),
        (1, {"amount": 1.5}, {"seconds": 5400.0}, "partial"),
        (1.1, {"resume": "specificTime", "dateTime": "2030-01-01T10:00:00"}, {"until": "2030-01-01T10:00:00"}, "mapped"),
    ])
    def test_wait(self, version, params, config, status):
        """Wait: a time interval in seconds (v1's missing unit is hours, noted), a specific time as `until`."""
        t, cfg, line = _config("wait", version, **params)
        assert (t, cfg, line["status"]) == ("util.delay", config, status)

    def test_wait_for_a_webhook_is_unmapped(self):
        """Waiting for a webhook call has no util.delay form."""
        assert _one("wait", 1.1, resume="webhook")[1]["status"] == "unmapped"


class TestFlowControl:
    def test_if_v1_single_condition_compare_mode(self):
        """IF v1 with one number condition is compare mode; v1's default operation is 'smaller'."""
        _, cfg, line = _config("if", 1, conditions={"number": [{"value1": "={{ $json.n }}", "value2": 3}]})
        assert cfg == {"mode": "compare", "left": "{{ input.n }}", "op": "lt", "right": 3}
        assert line["status"] == "mapped"

    def test_if_regex_is_unmapped(self):
        """A regex condition (our compare has no regex: a user regex could backtrack) is unmapped."""
        assert _one("if", 1, conditions={"string": [{"value1": "a", "operation": "regex", "value2": "a+"}]})[1][
            "status"] == "unmapped"

    def test_switch_v2_rules_to_their_outputs(self):
        """Switch v2: each rule's `output` picks the n8n output; two rules on one output share its target."""
        raw = {"nodes": [_node("Go", "manualTrigger"),
                         _node("Sw", "switch", 2, dataType="string", value1="={{ $json.kind }}", rules={"rules": [
                             {"operation": "equal", "value2": "a", "output": 0},
                             {"operation": "startsWith", "value2": "b", "output": 1},
                             {"operation": "equal", "value2": "c", "output": 1}]}, fallbackOutput=2),
                         _node("A", "noOp"), _node("B", "noOp"), _node("Other", "noOp")],
               "connections": {"Go": {"main": [[{"node": "Sw", "type": "main", "index": 0}]]},
                               "Sw": {"main": [[{"node": "A", "type": "main", "index": 0}],
                                               [{"node": "B", "type": "main", "index": 0}],
                                               [{"node": "Other", "type": "main", "index": 0}]]}}}
        out = convert(raw)
        sw = out.graph["nodes"][1]["config"]
        assert sw["value"] == "{{ input.kind }}" and [c["op"] for c in sw["cases"]] == ["eq", "starts_with", "eq"]
        edges = {(e["source"], e["source_port"], e["target"]) for e in out.graph["edges"]}
        assert {("Sw", "case_1", "A"), ("Sw", "case_2", "B_join"), ("Sw", "case_3", "B_join"),
                ("B_join", "output", "B"), ("Sw", "default", "Other")} <= edges
        _valid(out)

    def test_loop_over_items_v3_drops_the_closing_edge(self):
        """Loop Over Items v3: loop → item, done → results; the edge back into the loop is not an edge here."""
        raw = {"nodes": [_node("Go", "manualTrigger"), _node("Loop", "splitInBatches", 3, options={}),
                         _node("Each", "noOp"), _node("After", "noOp")],
               "connections": {"Go": {"main": [[{"node": "Loop", "type": "main", "index": 0}]]},
                               "Loop": {"main": [[{"node": "After", "type": "main", "index": 0}],
                                                 [{"node": "Each", "type": "main", "index": 0}]]},
                               "Each": {"main": [[{"node": "Loop", "type": "main", "index": 0}]]}}}
        out = convert(raw)
        assert {(e["source"], e["source_port"], e["target"]) for e in out.graph["edges"]} == {
            ("Go", "output", "Loop"), ("Loop", "results", "After"), ("Loop", "item", "Each")}
        assert out.graph["nodes"][1]["config"] == {"concurrency": 1} and out.report[1]["status"] == "mapped"
        _valid(out)

    def test_merge_modes(self):
        """Merge append → all, combine by position → combine (both partial); merge by key is unmapped."""
        assert _config("merge", 3, mode="append")[1] == {"mode": "all"}
        assert _config("merge", 2.1, mode="combine", combinationMode="mergeByPosition")[1] == {"mode": "combine"}
        assert _one("merge", 2.1, mode="combine", combinationMode="mergeByFields")[1]["status"] == "unmapped"


class TestServicesAndCode:
    def test_http_v1_with_basic_auth_needs_a_credential(self):
        """HTTP Request v1: method, UI parameters, and a basic credential to create, named after n8n's."""
        nodes, line, out = _one("httpRequest", 1, extra={"credentials": {"httpBasicAuth": {"id": "1", "name": "Me"}}},
                                requestMethod="POST", url="https://api.example.com", authentication="basicAuth",
                                bodyParametersUi={"parameter": [{"name": "a", "value": "={{ $json.a }}"}]})
        assert nodes[0]["config"] == {"method": "POST", "url": "https://api.example.com",
                                      "body": {"a": "{{ input.a }}"}}
        [need] = out.credentials
        assert (need.type, need.name, need.node_id) == ("basic", "Me (from n8n)", "N")

    def test_code_runs_inside_the_shim_and_python_is_unmapped(self):
        """JavaScript Code keeps its source inside the shim (partial); Python Code is a note."""
        nodes, line, _ = _one("code", 2, jsCode="return items;")
        assert "return items;" in nodes[0]["config"]["code"] and line["status"] == "partial"
        assert _one("code", 2, language="python", pythonCode="return _input")[1]["status"] == "unmapped"

    def test_execute_workflow_keeps_n8ns_id_and_says_so(self):
        """Execute Workflow → flow.subworkflow with n8n's workflow id, partial until the user picks ours."""
        nodes, line, _ = _one("executeWorkflow", 1.1, workflowId={"__rl": True, "value": "abc", "mode": "list"})
        assert nodes[0]["config"] == {"workflow_id": "abc", "wait": True} and line["status"] == "partial"

    def test_node_settings_retries_and_error_output(self):
        """Retry On Fail and On Error (error output) carry over; the error output is our `error` port."""
        raw = {"nodes": [_node("Go", "manualTrigger"),
                         {**_node("Call", "httpRequest", 4.2, url="https://x.example"), "retryOnFail": True,
                          "maxTries": 4, "waitBetweenTries": 2000, "onError": "continueErrorOutput"},
                         _node("Ok", "noOp"), _node("Failed", "noOp")],
               "connections": {"Go": {"main": [[{"node": "Call", "type": "main", "index": 0}]]},
                               "Call": {"main": [[{"node": "Ok", "type": "main", "index": 0}],
                                                 [{"node": "Failed", "type": "main", "index": 0}]]}}}
        out = convert(raw)
        cfg = out.graph["nodes"][1]["config"]
        assert (cfg["retries"], cfg["retry_backoff_s"], cfg["on_error"]) == (3, 2.0, "branch")
        assert ("Call", "error", "Failed") in {(e["source"], e["source_port"], e["target"]) for e in out.graph["edges"]}
        _valid(out)

    def test_ai_connections_are_reported_not_drawn(self):
        """A connection of another kind than main (AI sub-nodes) is left out and named in the report."""
        raw = {"nodes": [_node("Go", "manualTrigger"), _node("A", "noOp")],
               "connections": {"Go": {"ai_tool": [[{"node": "A", "type": "ai_tool", "index": 0}]]}}}
        out = convert(raw)
        assert out.graph["edges"] == [] and "ai_tool connections have no equivalent" in out.report[0]["notes"][0]
