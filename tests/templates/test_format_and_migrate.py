"""The template format: the gallery passes the strict gate, older fixtures migrate to the
current format, parameters are validated with errors naming the field, placeholders are
plain data substitution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.compile import compile_graph
from flows.graph import SCHEMA_VERSION
from nodes.registry import default_registry
from templates.format import (FORMAT_VERSION, TemplateError, check_parameter_schema, instantiate, parse_template,
                              substitute, validate_params)
from templates.gallery import GALLERY_DIR, builtin_templates
from templates.migrate import load_template, migrate_graph, migrate_template

REGISTRY = default_registry()
FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.json"))
GALLERY_FILES = sorted(GALLERY_DIR.glob("*.json"))


@pytest.mark.parametrize("path", GALLERY_FILES, ids=[p.stem for p in GALLERY_FILES])
def test_every_gallery_file_is_current_validates_and_compiles(path):
    raw = json.loads(path.read_text())
    assert raw["format_version"] == FORMAT_VERSION and raw["graph"]["schema_version"] == SCHEMA_VERSION
    tpl = load_template(raw, REGISTRY)
    for key in ("title", "description", "category", "tags", "icon", "version"):
        assert getattr(tpl, key), key
    assert tpl.parameters["properties"] and tpl.ai_enhancements
    for enh in tpl.ai_enhancements:   # marked on the canvas too
        node = next(n for n in tpl.graph["nodes"] if n["id"] == enh.node)
        assert node["type"].startswith("ai.") and "AI" in node["label"]
    graph, values = instantiate(tpl, {})
    compile_graph(graph, REGISTRY)
    assert "$param" not in json.dumps(graph)
    assert set(values) == set(tpl.parameters["properties"])


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_every_older_fixture_migrates_to_the_current_format(path):
    raw = json.loads(path.read_text())
    before = json.dumps(raw, sort_keys=True)
    current = migrate_template(raw)
    assert json.dumps(raw, sort_keys=True) == before            # pure
    assert current["format_version"] == FORMAT_VERSION and current["graph"]["schema_version"] == SCHEMA_VERSION
    tpl = parse_template(current, REGISTRY)
    graph, _ = instantiate(tpl, {})
    compile_graph(graph, REGISTRY)
    assert migrate_template(current) == current                 # idempotent on the current format


def test_format_1_details():
    tpl = load_template(json.loads((Path(__file__).parent / "fixtures" / "format1_graph0.json").read_text()), REGISTRY)
    assert (tpl.title, tpl.version, tpl.description) == ("Welcome mail", 2003, tpl.description)
    props = tpl.parameters["properties"]
    assert props["sender"] == {"type": "string", "format": "email", "title": "Sender", "default": "hello@maily.example"}
    assert props["tags"]["items"] == {"type": "string"} and tpl.parameters["required"] == ["sender"]
    nodes = {n["id"]: n for n in tpl.graph["nodes"]}
    assert nodes["send"]["config"]["sender"] == {"$param": "sender"}
    assert nodes["send"]["config"]["headers"]["X-Tags"] == "$param:tags-not-a-placeholder"   # not a whole name
    assert nodes["wait"]["position"] == {"x": 240, "y": 0} and nodes["wait"]["label"] == "Wait"
    assert [(e["source"], e["source_port"], e["target"], e["target_port"]) for e in tpl.graph["edges"]] == [
        ("start", "output", "wait", "input"), ("wait", "output", "compose", "input"),
        ("compose", "output", "send", "message")]
    graph, _ = instantiate(tpl, {"sender": "ops@maily.example", "wait": 5})
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["send"]["config"]["sender"] == "ops@maily.example" and nodes["wait"]["config"]["seconds"] == 5


def test_newer_versions_are_refused():
    with pytest.raises(TemplateError, match=f"format_version {FORMAT_VERSION + 1}"):
        migrate_template({"format_version": FORMAT_VERSION + 1})
    with pytest.raises(TemplateError, match="newer than this server"):
        migrate_graph({"schema_version": SCHEMA_VERSION + 1})
    with pytest.raises(TemplateError, match="format_version is required"):
        migrate_template({"id": "x"})


def test_parameters_are_validated_with_errors_naming_the_field():
    tpl = builtin_templates(REGISTRY)["email-campaign"]
    with pytest.raises(TemplateError) as e:
        validate_params(tpl.parameters, {"send_hour": 25, "campaign_name": ""})
    fields = [x["field"] for x in e.value.errors]
    assert fields == ["campaign_name", "send_hour"] and "campaign_name" in e.value.message
    with pytest.raises(TemplateError) as e:
        validate_params({"type": "object", "required": ["who"], "properties": {"who": {"type": "string"}}}, {})
    assert e.value.errors[0]["field"] == "who"
    with pytest.raises(TemplateError, match="params must be an object"):
        validate_params(tpl.parameters, ["x"])


def test_parameter_patterns_run_in_linear_time_and_unrunnable_ones_are_refused():
    """A backtracking-bomb parameter pattern is a plain field error; a backreference is refused naming its place."""
    schema = {"type": "object", "properties": {"who": {"type": "string", "pattern": "^(a+)+$"}}}
    check_parameter_schema(schema)
    with pytest.raises(TemplateError) as e:
        validate_params(schema, {"who": "a" * 40 + "!"})
    assert e.value.errors[0]["field"] == "who"
    with pytest.raises(TemplateError, match="not supported") as e:
        check_parameter_schema({"type": "object", "properties": {"who": {"type": "string", "pattern": "(a)\\1"}}})
    assert e.value.pointer == "/parameters/properties/who/pattern"


def test_substitution_is_data_only():
    tpl = builtin_templates(REGISTRY)["user-onboarding"]
    evil = "{{ ''.__class__.__mro__ }} {% for x in range(10**9) %}{% endfor %}"
    graph, _ = instantiate(tpl, {"product_name": evil, "sender": "a@b.example"})
    settings = next(n for n in graph["nodes"] if n["id"] == "settings")
    assert settings["config"]["values"]["product"] == evil      # stored as given, rendered (sandboxed) only when run
    # a parameter value that looks like a placeholder is not substituted again
    graph = substitute(tpl.graph, {**validate_params(tpl.parameters, {}), "product_name": {"$param": "sender"}})
    settings = next(n for n in graph["nodes"] if n["id"] == "settings")
    assert settings["config"]["values"]["product"] == {"$param": "sender"}
