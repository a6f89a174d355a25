"""Which workflow is which tool: its name and its input schema, from the published graph's trigger."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from backend.mcp.tools import ToolFailed, as_tool, payload_of, tool_name
from tests.flows.fakes import graph, node

ID = "3f2a9c1d" + "0" * 24


def tool_of(trigger: str, **config):
    wf = SimpleNamespace(id=ID, name="Order lookup", description="")
    version = SimpleNamespace(version=3, graph=graph([node("start", trigger, **config)], []))
    return as_tool(wf, version)


class TestNames:
    @pytest.mark.parametrize("name, expected", [
        ("Order lookup!", "order_lookup_3f2a9c1d"),
        ("  Ça va -- déjà  ", "a_va_d_j_3f2a9c1d"),
        ("!!!", "workflow_3f2a9c1d"),
        ("x" * 100, "x" * 40 + "_3f2a9c1d"),
    ])
    def test_a_name_is_a_slug_and_the_ids_first_8(self, name, expected):
        """Lower case, other characters as one underscore, 40 characters at most, then the short id."""
        assert tool_name(name, ID) == expected


class TestSchemas:
    def test_a_workflow_without_a_manual_or_webhook_trigger_is_no_tool(self):
        """A published graph triggered otherwise (or not at all) is not offered."""
        wf = SimpleNamespace(id=ID, name="n", description="")
        assert as_tool(wf, SimpleNamespace(version=1, graph=graph([node("x", "data.set")], []))) is None

    def test_no_schema_takes_any_object(self):
        """A trigger without a schema gives an open object schema and a description naming the workflow."""
        tool = tool_of("trigger.manual")
        assert tool.input_schema == {"type": "object"} and "'Order lookup'" in tool.description

    def test_a_webhook_body_schema_of_a_non_object_is_one_input_argument(self):
        """A webhook whose body is, say, a string takes it as the argument `input`, sent as the body."""
        tool = tool_of("trigger.webhook", body_schema={"type": "string", "maxLength": 5})
        assert tool.input_schema == {"type": "object", "properties": {"input": {"type": "string", "maxLength": 5}},
                                     "required": ["input"]}
        assert payload_of(tool, {"input": "hi"})["body"] == "hi"
        with pytest.raises(ToolFailed, match="too long"):
            payload_of(tool, {"input": "far too long"})

    def test_a_manual_trigger_gets_the_arguments_as_its_input(self):
        """The run input of a manual trigger is the arguments themselves."""
        tool = tool_of("trigger.manual", input_schema={"type": "object", "properties": {"n": {"type": "integer"}}})
        assert payload_of(tool, {"n": 2}) == {"n": 2}
        with pytest.raises(ToolFailed, match="at /n"):
            payload_of(tool, {"n": "two"})
