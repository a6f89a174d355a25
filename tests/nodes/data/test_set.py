"""data.set: fields on a fresh object or on the incoming one."""

import pytest

from nodes.data import set as set_node
from nodes.sdk import NodeConfigError


async def test_set_builds_a_new_object_from_values(make_ctx):
    out = await set_node.execute(make_ctx(), set_node.Config(values={"a": 1, "b": [2]}), {"input": {"x": 0}})
    assert out == {"output": {"a": 1, "b": [2]}}


async def test_keep_input_merges_without_mutating_the_input(make_ctx):
    incoming = {"x": 0, "nested": {"k": 1}}
    out = await set_node.execute(make_ctx(), set_node.Config(values={"nested.extra": 2}, keep_input=True),
                                 {"input": incoming})
    assert out["output"] == {"x": 0, "nested": {"k": 1, "extra": 2}}
    assert incoming == {"x": 0, "nested": {"k": 1}}


async def test_keep_input_with_a_non_object_input_is_a_config_error(make_ctx):
    with pytest.raises(NodeConfigError):
        await set_node.execute(make_ctx(), set_node.Config(values={}, keep_input=True), {"input": [1]})


async def test_empty_path_segment_is_refused(make_ctx):
    with pytest.raises(NodeConfigError):
        await set_node.execute(make_ctx(), set_node.Config(values={"a..b": 1}), {})


def test_unknown_config_keys_are_refused():
    with pytest.raises(Exception):
        set_node.Config(values={}, bogus=1)
