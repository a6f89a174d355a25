"""logic.merge: the ready hook and the joined output per mode."""

import pytest

from nodes.logic import merge
from nodes.sdk import NodeConfigError


def test_ready_all_waits_for_every_edge_and_first_for_one():
    assert not merge.ready(merge.Config(mode="all"), arrived=1, pending=1)
    assert merge.ready(merge.Config(mode="all"), arrived=2, pending=0)
    assert merge.ready(merge.Config(mode="first"), arrived=1, pending=2)
    assert not merge.ready(merge.Config(mode="first"), arrived=0, pending=2)


async def test_all_outputs_the_list_of_arrived_values(make_ctx):
    assert await merge.execute(make_ctx(), merge.Config(), {"input": [1, {"a": 2}]}) == {"output": [1, {"a": 2}]}


async def test_first_outputs_the_first_value(make_ctx):
    assert await merge.execute(make_ctx(), merge.Config(mode="first"), {"input": ["x", "y"]}) == {"output": "x"}


async def test_combine_merges_objects_later_branches_win(make_ctx):
    out = await merge.execute(make_ctx(), merge.Config(mode="combine"), {"input": [{"a": 1, "b": 1}, {"b": 2}]})
    assert out == {"output": {"a": 1, "b": 2}}


async def test_combine_refuses_non_objects(make_ctx):
    with pytest.raises(NodeConfigError):
        await merge.execute(make_ctx(), merge.Config(mode="combine"), {"input": [{"a": 1}, 3]})


def test_merge_input_accepts_multiple_edges():
    assert merge.SPEC.inputs[0].multiple
