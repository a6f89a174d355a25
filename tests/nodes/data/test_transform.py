"""data.transform: per-item filter/map and pure pick/sort/limit/unique."""

import pytest

from nodes.data import transform
from nodes.sdk import NodeConfigError

PEOPLE = [{"name": "Ada", "age": 36, "team": "a"}, {"name": "Bob", "age": 17, "team": "b"},
          {"name": "Cy", "age": 52, "team": "a"}, {"name": "Di", "age": None, "team": "b"}]


def cfg(*ops, items=None):
    return transform.Config.model_validate({"items": items, "operations": list(ops)})


async def test_filter_renders_the_condition_per_item(make_ctx):
    out = await transform.execute(make_ctx(), cfg({"op": "filter", "condition": "{{ (item.age or 0) >= 18 }}"}),
                                  {"input": PEOPLE})
    assert [p["name"] for p in out["output"]] == ["Ada", "Cy"]


async def test_filter_condition_may_omit_braces_and_use_index(make_ctx):
    out = await transform.execute(make_ctx(), cfg({"op": "filter", "condition": "index % 2 == 0"}), {"input": PEOPLE})
    assert [p["name"] for p in out["output"]] == ["Ada", "Cy"]


async def test_map_builds_new_items_and_keep_preserves_fields(make_ctx):
    op = {"op": "map", "fields": {"label": "{{ index }}:{{ item.name }}", "adult": "{{ (item.age or 0) >= 18 }}"}}
    out = await transform.execute(make_ctx(), cfg(op), {"input": PEOPLE[:2]})
    assert out["output"] == [{"label": "0:Ada", "adult": True}, {"label": "1:Bob", "adult": False}]
    out = await transform.execute(make_ctx(), cfg({**op, "keep": True}), {"input": PEOPLE[:1]})
    assert out["output"][0]["name"] == "Ada" and out["output"][0]["label"] == "0:Ada"


async def test_pick_sort_limit_unique_pipeline(make_ctx):
    ops = [{"op": "sort", "key": "age", "descending": False}, {"op": "unique", "key": "team"},
           {"op": "pick", "fields": ["name"]}, {"op": "limit", "count": 5}]
    out = await transform.execute(make_ctx(), cfg(*ops), {"input": PEOPLE})
    assert out["output"] == [{"name": "Bob"}, {"name": "Ada"}]


async def test_sort_puts_missing_values_last_and_never_mixes_types_into_errors(make_ctx):
    items = [{"v": "b"}, {"v": 2}, {}, {"v": 1}, {"v": [1]}]
    out = await transform.execute(make_ctx(), cfg({"op": "sort", "key": "v"}), {"input": items})
    assert out["output"] == [{"v": 1}, {"v": 2}, {"v": "b"}, {"v": [1]}, {}]


async def test_limit_with_offset(make_ctx):
    out = await transform.execute(make_ctx(), cfg({"op": "limit", "count": 2, "offset": 1}), {"input": [1, 2, 3, 4]})
    assert out["output"] == [2, 3]


async def test_items_config_overrides_the_input(make_ctx):
    out = await transform.execute(make_ctx(), cfg(items=[3, 1, 2]), {"input": "ignored"})
    assert out["output"] == [3, 1, 2]


async def test_non_list_items_are_a_config_error_on_items(make_ctx):
    with pytest.raises(NodeConfigError) as err:
        await transform.execute(make_ctx(), cfg(), {"input": {"not": "a list"}})
    assert err.value.pointer == "/items"


async def test_bad_per_item_expression_points_at_its_operation(make_ctx):
    with pytest.raises(NodeConfigError) as err:
        await transform.execute(make_ctx(), cfg({"op": "limit", "count": 1}, {"op": "filter", "condition": "{{ item.x.y }}"}),
                                {"input": [{}]})
    assert err.value.pointer == "/operations/1"


def test_operations_are_not_rendered_by_the_engine():
    assert transform.SPEC.raw_config_fields == ("operations",)
