"""nodes.user_schema: user-written JSON Schemas validate with linear-time (RE2) regexes."""

from __future__ import annotations

import pytest

from nodes.sdk import NodeConfigError
from nodes.trigger.manual import validate_payload
from nodes.user_schema import SchemaError, ValidationError, validate_user_schema

BOMB = "^(a+)+$"


class TestPatterns:
    def test_catastrophic_pattern_is_a_plain_mismatch(self):
        """`^(a+)+$` against 'a'*40+'!' is reported as a mismatch (Python's re would backtrack ~2**40 steps)."""
        with pytest.raises(ValidationError, match="does not match"):
            validate_user_schema("a" * 40 + "!", {"type": "string", "pattern": BOMB})

    def test_catastrophic_pattern_properties_and_additional_properties(self):
        """patternProperties and additionalProperties beside it also run on RE2 and still classify keys."""
        schema = {"type": "object", "patternProperties": {BOMB: {"type": "integer"}}, "additionalProperties": False}
        validate_user_schema({"aaa": 1}, schema)
        with pytest.raises(ValidationError, match="not allowed"):
            validate_user_schema({"a" * 40 + "!": 1}, schema)
        with pytest.raises(ValidationError, match="integer"):
            validate_user_schema({"aa": "x"}, schema)

    def test_pattern_re2_cannot_compile_is_a_schema_error_naming_its_place(self):
        """A backreference is refused as a schema error pointing at the pattern, even when no data reaches it."""
        with pytest.raises(SchemaError, match="/properties/x/pattern"):
            validate_user_schema({}, {"properties": {"x": {"pattern": "(a)\\1"}}})

    def test_unevaluated_properties_beside_pattern_properties_is_refused_naming_its_place(self):
        """unevaluatedProperties would classify keys with Python's re: combined with patternProperties it is a schema error."""
        schema = {"type": "object", "allOf": [{"patternProperties": {BOMB: {"type": "integer"}}}],
                  "unevaluatedProperties": False}
        with pytest.raises(SchemaError, match="/unevaluatedProperties: unevaluatedProperties cannot be combined"):
            validate_user_schema({"a" * 40 + "!": 1}, schema)
        validate_user_schema({"x": 1}, {"type": "object", "properties": {"x": {}}, "unevaluatedProperties": False})

    def test_manual_trigger_uses_the_shared_helper(self):
        """The manual trigger's input_schema check answers a bomb pattern with a NodeConfigError, not a hang."""
        with pytest.raises(NodeConfigError, match="does not match"):
            validate_payload({"k": "a" * 40 + "!"}, {"properties": {"k": {"pattern": BOMB}}})


class TestApprovalForm:
    def test_bomb_pattern_in_the_form_is_a_field_problem(self):
        """approval.wait's form check reports a bomb pattern's mismatch against the field instead of hanging."""
        from nodes.approval.wait import form_errors
        form = {"type": "object", "properties": {"note": {"type": "string", "pattern": BOMB}}}
        assert [p["field"] for p in form_errors(form, {"note": "a" * 40 + "!"})] == ["note"]

    def test_form_with_a_pattern_re2_cannot_run_is_refused(self):
        """An approval form whose pattern RE2 cannot compile is refused when the node's config is read."""
        from pydantic import ValidationError as ConfigInvalid

        from nodes.approval.wait import Config
        with pytest.raises(ConfigInvalid, match="not supported"):
            Config(form={"type": "object", "properties": {"n": {"type": "string", "pattern": "(?=a)"}}})
