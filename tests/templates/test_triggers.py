"""Triggers a template declares (format 3): the gate refuses what the scheduler would refuse,
placeholders resolve to the parameters' values, and a bad value names the parameter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodes.registry import default_registry
from templates.format import TemplateError, instantiate, parse_template
from templates.gallery import builtin_templates
from templates.migrate import load_template, migrate_template
from templates.triggers import resolve_triggers

REGISTRY = default_registry()
FIXTURES = Path(__file__).parent / "fixtures"


def _tpl(triggers, **props):
    return {"format_version": 3, "id": "t", "version": 1, "title": "T",
            "parameters": {"type": "object", "properties": {
                "cron": {"type": "string", "default": "0 3 * * *"}, "tz": {"type": "string", "default": "UTC"},
                "days": {"type": "integer", "default": 3}, **props}},
            "triggers": triggers,
            "graph": {"schema_version": 1, "nodes": [{"id": "start", "type": "trigger.manual"}], "edges": []}}


class TestMigration:
    def test_a_format_2_file_gets_no_triggers_and_keeps_its_schedule_parameter(self):
        """Format 2 had no triggers: migrating one declares none, and the old `schedule` parameter stays a parameter."""
        raw = json.loads((FIXTURES / "format2_graph1.json").read_text())
        tpl = load_template(raw, REGISTRY)
        assert tpl.format_version == 3 and tpl.triggers == []
        assert tpl.parameters["properties"]["schedule"]["default"] == "0 3 * * *"

    def test_a_format_2_file_with_triggers_is_refused(self):
        """`triggers` is a format 3 key: a file claiming format 2 cannot carry it."""
        with pytest.raises(TemplateError, match="format_version 3") as e:
            migrate_template({**_tpl([]), "format_version": 2})
        assert e.value.pointer == "/triggers"


class TestGate:
    @pytest.mark.parametrize("trigger, pointer, words", [
        ({"type": "schedule", "cron": "0 3 * * *", "enabled": True}, "/triggers/0/enabled", "Extra inputs"),
        ({"type": "cron", "cron": "0 3 * * *"}, "/triggers/0", "tag"),
        ({"type": "webhook", "secret": "x"}, "/triggers/0/secret", "Extra inputs"),
        ({"type": "schedule", "cron": "61 3 * * *"}, "/triggers/0/cron", "61"),
        ({"type": "schedule", "cron": "0 3 * *"}, "/triggers/0/cron", "5 fields"),
        ({"type": "schedule", "cron": "0 3 * * *", "timezone": "Mars/Olympus"}, "/triggers/0/timezone", "Mars"),
        ({"type": "schedule", "cron": {"$param": "nope"}}, "/triggers/0/cron", "nope"),
        ({"type": "schedule", "cron": {"$param": "days"}}, "/triggers/0/cron", "type 'string'"),
        ({"type": "schedule", "cron": {"$param": "cron", "x": "y"}}, "/triggers/0/cron", "exactly"),
        ({"type": "schedule", "cron": "@daily", "input": {"n": {"$param": "missing"}}}, "/triggers/0/input/n",
         "missing"),
    ])
    def test_bad_declarations_are_refused_naming_the_place(self, trigger, pointer, words):
        """Unknown keys and types, crons and zones the scheduler refuses, placeholders to nothing."""
        with pytest.raises(TemplateError) as e:
            parse_template(_tpl([trigger]), REGISTRY)
        assert e.value.pointer.startswith(pointer) and words in e.value.message, (e.value.pointer, e.value.message)

    def test_more_than_ten_triggers_are_refused(self):
        with pytest.raises(TemplateError, match="at most 10"):
            parse_template(_tpl([{"type": "webhook"}] * 11), REGISTRY)


class TestResolve:
    def test_backup_and_cleanup_schedules_from_its_parameters(self):
        """The gallery's backup-and-cleanup takes cron and time zone from `schedule` and `timezone`."""
        tpl = builtin_templates(REGISTRY)["backup-and-cleanup"]
        _, values = instantiate(tpl, {})
        assert [(t["type"], t["cron"], t["timezone"]) for t in resolve_triggers(tpl, values)] == [
            ("schedule", "0 3 * * *", "UTC")]
        _, values = instantiate(tpl, {"schedule": "30 2 * * 1-5", "timezone": "Europe/Paris"})
        assert [(t["cron"], t["timezone"]) for t in resolve_triggers(tpl, values)] == [("30 2 * * 1-5", "Europe/Paris")]

    @pytest.mark.parametrize("params, field, words", [
        ({"cron": "99 3 * * *"}, "cron", "99"),
        ({"cron": "0 3 * *"}, "cron", "5 fields"),
        ({"tz": "Europe/Nowhere"}, "tz", "Europe/Nowhere"),
        ({"tz": "utc"}, "tz", "utc"),
    ])
    def test_a_bad_value_in_the_parameters_names_the_parameter(self, params, field, words):
        """The user typed it, so the error points at /params/<name>, not into the template."""
        tpl = parse_template(_tpl([{"type": "schedule", "cron": {"$param": "cron"}, "timezone": {"$param": "tz"}}]),
                             REGISTRY)
        _, values = instantiate(tpl, params)
        with pytest.raises(TemplateError) as e:
            resolve_triggers(tpl, values)
        assert e.value.pointer == f"/params/{field}" and e.value.errors[0]["field"] == field
        assert e.value.message.startswith(f"parameter {field}:") and words in e.value.message

    def test_input_placeholders_are_data_and_webhooks_pass_through(self):
        tpl = parse_template(_tpl([{"type": "schedule", "cron": "@daily", "input": {"n": {"$param": "days"}}},
                                   {"type": "webhook", "allow_token": True, "description": "CRM"}]), REGISTRY)
        _, values = instantiate(tpl, {"days": 9})
        assert resolve_triggers(tpl, values) == [
            {"type": "schedule", "cron": "@daily", "timezone": "UTC", "input": {"n": 9}, "description": ""},
            {"type": "webhook", "allow_token": True, "description": "CRM"}]


def test_trigger_changes_count_triggers_and_ignore_a_new_description():
    """Added and dropped triggers between two versions, counted: a second identical schedule is added, a
    schedule whose cron changed is one dropped and one added, and a webhook whose description alone
    changed is the same webhook."""
    from templates.triggers import trigger_changes

    nightly = {"type": "schedule", "cron": "0 3 * * *", "timezone": "UTC", "input": {}, "description": "a"}
    hook = {"type": "webhook", "allow_token": False, "description": "CRM"}
    added, dropped = trigger_changes([nightly, hook], [nightly, {**nightly, "description": "b"},
                                                      {**hook, "description": "CRM v2"}])
    assert added == [{**nightly, "description": "b"}] and dropped == []
    moved = {**nightly, "cron": "0 4 * * *"}
    assert trigger_changes([nightly, hook], [moved, hook]) == ([moved], [nightly])
    assert trigger_changes([], []) == ([], [])
