"""logic.for_each: bounded concurrency, order kept, errors surface as themselves."""

import asyncio

import pytest

from nodes.logic import for_each
from nodes.sdk import NodeConfigError, NodeTemporaryError


async def test_results_keep_list_order_and_concurrency_is_bounded(make_ctx):
    running = peak = 0

    async def run_each(item, index):
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (5 - item % 5))  # later items finish first
        running -= 1
        return {"item": item, "index": index}

    out = await for_each.execute(make_ctx(run_each=run_each), for_each.Config(concurrency=3), {"input": list(range(10))})
    assert out == {"results": [{"item": i, "index": i} for i in range(10)]}
    assert peak == 3


async def test_without_sub_path_results_are_the_items(make_ctx):
    assert await for_each.execute(make_ctx(), for_each.Config(items=[1, 2]), {}) == {"results": [1, 2]}


async def test_non_list_items_are_a_config_error_on_items(make_ctx):
    with pytest.raises(NodeConfigError) as err:
        await for_each.execute(make_ctx(), for_each.Config(), {"input": "abc"})
    assert err.value.pointer == "/items"


async def test_too_many_items_are_refused(make_ctx):
    with pytest.raises(NodeConfigError, match="limit"):
        await for_each.execute(make_ctx(), for_each.Config(items=list(range(10_001))), {})


async def test_a_failing_item_raises_its_own_error_and_cancels_the_rest(make_ctx):
    finished = []

    async def run_each(item, index):
        if item == 1:
            raise NodeTemporaryError("boom")
        await asyncio.Event().wait()   # until the failing item cancels it
        finished.append(item)

    with pytest.raises(NodeTemporaryError, match="boom"):
        await for_each.execute(make_ctx(run_each=run_each), for_each.Config(concurrency=5), {"input": [0, 1, 2]})
    assert finished == []


def test_concurrency_is_limited_to_1_to_50():
    for bad in (0, 51):
        with pytest.raises(Exception):
            for_each.Config(concurrency=bad)


def test_item_port_runs_the_sub_path_per_item():
    ports = {p.name: p for p in for_each.SPEC.outputs}
    assert ports["item"].each and not ports["results"].each
