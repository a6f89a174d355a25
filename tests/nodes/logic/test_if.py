"""logic.if: expression and compare modes pick exactly one branch."""

import pytest

from nodes.logic import if_
from nodes.sdk import NodeConfigError


@pytest.mark.parametrize("condition, port", [(True, "true"), (False, "false"), ("false", "false"),
                                             ("yes", "true"), (0, "false"), ([1], "true"), (None, "false")])
async def test_expression_mode_routes_by_truthiness(make_ctx, condition, port):
    out = await if_.execute(make_ctx(), if_.Config(condition=condition), {"input": {"x": 1}})
    assert out == {port: {"x": 1}}


@pytest.mark.parametrize("left, op, right, expected", [
    (5, "gt", 3, True), ("10", "gt", "9", True), ("5", "eq", 5, True), ("a", "ne", "b", True),
    ("hello world", "contains", "world", True), ([1, 2], "contains", 3, False), ("b", "in", ["a", "b"], True),
    ("", "is_empty", None, True), ({"a": 1}, "is_not_empty", None, True), ("abc", "starts_with", "ab", True),
    ("abc", "ends_with", "bc", True), (2, "lte", 2, True), (1, "lt", 0, False), ("x", "not_contains", "y", True),
])
async def test_compare_mode_operators(make_ctx, left, op, right, expected):
    out = await if_.execute(make_ctx(), if_.Config(mode="compare", left=left, op=op, right=right), {"input": 7})
    assert out == {("true" if expected else "false"): 7}


async def test_comparing_incomparable_values_is_a_config_error(make_ctx):
    with pytest.raises(NodeConfigError, match="cannot compare"):
        await if_.execute(make_ctx(), if_.Config(mode="compare", left="abc", op="gt", right=[1]), {})


def test_if_declares_true_and_false_ports():
    assert [p.name for p in if_.SPEC.outputs] == ["true", "false"]
