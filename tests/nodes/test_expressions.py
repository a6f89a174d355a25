"""Expressions: native values, string rendering, sandbox, limits, references."""

import time

import pytest
from hypothesis import given, strategies as st

from nodes.expressions import RENDER_TIME_LIMIT_S, find_references, is_expression, render_value, truthy
from nodes.sdk import NodeConfigError

SCOPE = {
    "nodes": {"fetch": {"output": {"items": [1, 2, 3], "name": "Ada"}, "ports": {}}},
    "trigger": {"email": "a@example.com", "count": 2},
    "run": {"id": "r1", "workflow_id": "w1"},
    "input": {"total": 120},
}


@pytest.mark.parametrize("source, expected", [
    ("{{ nodes.fetch.output.items }}", [1, 2, 3]),
    ("  {{ trigger.count + 1 }}  ", 3),
    ("{{ input.total > 100 }}", True),
    ("{{ none }}", None),
    ("{{ {'a': trigger.count} }}", {"a": 2}),
    ("{{ nodes.fetch.output.items | map('string') | list }}", ["1", "2", "3"]),
    ("{{- trigger.count -}}", 2),
    ("{{ nodes['fetch'].output.name }}", "Ada"),
])
def test_single_expression_yields_native_value(source, expected):
    assert render_value(source, SCOPE) == expected


@pytest.mark.parametrize("source, expected", [
    ("Hi {{ nodes.fetch.output.name }}!", "Hi Ada!"),
    ("{{ trigger.count }} {{ trigger.count }}", "2 2"),
    ("items: {{ nodes.fetch.output.items }}", "items: [1, 2, 3]"),
    ("flag={{ true }} none={{ none }}", "flag=true none="),
    ("{% for i in nodes.fetch.output.items %}{{ i }},{% endfor %}", "1,2,3,"),
    ("plain text", "plain text"),
])
def test_mixed_text_renders_to_string(source, expected):
    assert render_value(source, SCOPE) == expected


def test_dicts_and_lists_are_rendered_recursively_and_other_values_kept():
    value = {"a": ["{{ run.id }}", 5, None], "b": {"c": "{{ input.total }}"}}
    assert render_value(value, SCOPE) == {"a": ["r1", 5, None], "b": {"c": 120}}


@pytest.mark.parametrize("source", ["{{ missing }}", "{{ nodes.nope.output }}", "x {{ trigger.nope }}"])
def test_undefined_names_are_config_errors_naming_the_name(source):
    with pytest.raises(NodeConfigError, match="undefined|no attribute"):
        render_value(source, SCOPE)


def test_syntax_error_is_a_config_error():
    with pytest.raises(NodeConfigError, match="expression error"):
        render_value("{{ 1 + }}", SCOPE)


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ (range(3)|list).append(4) }}",
])
def test_sandbox_refuses_unsafe_access(source):
    with pytest.raises(NodeConfigError):
        render_value(source, SCOPE)


@pytest.mark.parametrize("source", [
    "{% for i in range(10**9) %}x{% endfor %}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ 'x' * 10**9 }}",
    "{{ 2 ** 100000 }}",
    "{{ '%999999999d' | format(1) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ 'x' | center(999999999) }}",
    "{{ 'x'.ljust(999999999) }}",
    "{{ '{:>{}}'.format(1, 999999999) }}",
    "{{ ('x' * 100000) | replace('x', 'y' * 1000) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% for i in range(100000) %}{{ 'abcdefghij' * 100 }}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
])
def test_runaway_templates_stop_quickly_with_a_clear_error(source):
    started = time.thread_time()      # the budget is CPU time: wall time follows the machine's load
    with pytest.raises(NodeConfigError, match="expression"):
        render_value(source, {})
    assert time.thread_time() - started < 3


def test_large_ordinary_numbers_are_fine_outside_size_arguments():
    assert render_value("{{ '%d' | format(1700000000) }}", {}) == "1700000000"
    assert render_value("{{ range(0, 5000000, 1000000) | list }}", {}) == [0, 1000000, 2000000, 3000000, 4000000]
    assert render_value("{{ 'ab'.ljust(4, '.') }}", {}) == "ab.."


def test_data_errors_inside_expressions_are_config_errors():
    with pytest.raises(NodeConfigError, match="ZeroDivisionError"):
        render_value("{{ 1 / 0 }}", {})


def test_is_expression_detects_delimiters():
    assert is_expression("a {{ b }}") and is_expression("{% if x %}{% endif %}")
    assert not is_expression("plain") and not is_expression(5)


def test_find_references_reads_dotted_and_bracketed_node_ids_in_nested_values():
    value = {"a": "{{ nodes.fetch.output }} and nodes.ignored", "b": ["{% if nodes['my-node'].x %}{% endif %}"],
             "c": "{{ nodes[\"other\"].output | length }}"}
    assert find_references(value) == {"fetch", "my-node", "other"}


def test_truthy_treats_false_like_text_as_false():
    assert not truthy("false") and not truthy(" 0 ") and not truthy("") and not truthy(None)
    assert truthy("yes") and truthy(1) and truthy([0])


@given(st.text(max_size=200))
def test_arbitrary_text_renders_or_raises_only_config_errors(text):
    try:
        render_value(text, SCOPE)
    except NodeConfigError:
        pass


_fragments = st.sampled_from(["{{", "}}", "{%", "%}", "for", "in", "range(", ")", "nodes.", "fetch", "*", "**",
                              "9", "|", "join", "'x'", " ", "~", "endfor", "if", "endif", "input", ".", "[", "]"])


@given(st.lists(_fragments, max_size=30).map("".join))
def test_template_like_text_renders_or_raises_only_config_errors(text):
    try:
        render_value(text, SCOPE)
    except NodeConfigError:
        pass


_BIG_TEXT = ("see http://example.com now " * 40_000)  # about 1 MB
_MANY = list(range(1_000_000, 0, -1))


@pytest.mark.parametrize("source, scope, limit", [
    ("{{ s|urlize }}", {"s": _BIG_TEXT}, "|urlize takes text of at most"),
    ("{{ s|wordwrap(5) }}", {"s": _BIG_TEXT}, "|wordwrap takes text of at most"),
    ("{{ s|striptags }}", {"s": "<b>" * 300_000}, "|striptags takes text of at most"),
    ("{{ l|sort|first }}", {"l": _MANY}, "|sort takes at most"),
    ("{{ l|groupby('a')|length }}", {"l": [{"a": i} for i in range(300_000)]}, "|groupby takes at most"),
    ("{{ l|unique|list|length }}", {"l": _MANY}, "|unique takes at most"),
    ("{{ l|sum }}", {"l": _MANY}, "|sum takes at most"),
    ("{{ 'x' * 10**8 }}", {}, "repeating a string"),
    ("{{ '%0999999999d' % 5 }}", {}, "width or precision"),
    ("{{ '{:>99999999}'.format('a') }}", {}, "width or precision"),
])
def test_one_expensive_operation_is_refused_up_front_naming_its_limit(source, scope, limit):
    """The operations that overran the budget in one uninterruptible call are refused before they run."""
    with pytest.raises(NodeConfigError, match="expression stopped") as refused:
        render_value(source, scope)
    assert limit in str(refused.value)


def test_a_huge_range_is_refused_by_the_sandbox():
    """range() beyond the sandbox's bound is a config error, not a long loop."""
    with pytest.raises(NodeConfigError, match="Range too big"):
        render_value("{{ range(10**9)|list|length }}", {})


def test_the_time_budget_counts_the_rendering_threads_cpu_not_wall_time():
    """A render that spends over a second of wall time without using the CPU (as a thread
    waiting for the GIL in a burst of runs does) renders; only its own CPU time counts."""

    class SlowToStart(list):
        def __iter__(self):
            time.sleep(RENDER_TIME_LIMIT_S + 0.2)      # off the CPU, as a thread waiting its turn
            return super().__iter__()

    started = time.monotonic()
    assert render_value("{% for i in items %}{{ i }}{% endfor %}", {"items": SlowToStart([1, 2, 3])}) == "123"
    assert time.monotonic() - started > RENDER_TIME_LIMIT_S
