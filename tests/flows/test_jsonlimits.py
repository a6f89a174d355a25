"""parse_limited and depth_of: limits enforced without recursion."""

import json

import pytest
from hypothesis import given

from flows.graph import MAX_DOCUMENT_BYTES, MAX_NESTING
from flows.jsonlimits import JsonLimitError, depth_of, parse_limited
from tests.strategies import json_values


def _code(data, **kw):
    with pytest.raises(JsonLimitError) as caught:
        parse_limited(data, **kw)
    return caught.value


def test_a_small_document_parses():
    assert parse_limited(b'{"a": [1, {"b": "[[[{{"}]}') == {"a": [1, {"b": "[[[{{"}]}


def test_100000_levels_of_nesting_is_too_deep_not_a_recursion_error():
    deep = "[" * 100_000 + "]" * 100_000
    assert _code(deep).code == "too_deep"
    assert _code(deep.encode()).code == "too_deep"
    assert _code('{"a":' * 100_000 + "1" + "}" * 100_000).code == "too_deep"


def test_depth_limit_is_exact_and_counts_brackets_not_characters_in_strings():
    at_limit = "[" * MAX_NESTING + "]" * MAX_NESTING
    assert depth_of(parse_limited(at_limit)) == MAX_NESTING
    assert _code("[" + at_limit + "]").code == "too_deep"
    assert parse_limited(json.dumps(["[" * 1000, '\\"[[[['])) == ["[" * 1000, '\\"[[[[']


def test_a_6_mb_document_is_too_large():
    six_mb = json.dumps({"name": "x" * (6 * 1024 * 1024)})
    assert _code(six_mb).code == "too_large"
    assert _code(six_mb.encode()).code == "too_large"
    assert "5,242,880" in _code(six_mb).message


def test_size_counts_utf8_bytes_of_a_str():
    text = json.dumps("é" * (MAX_DOCUMENT_BYTES // 2), ensure_ascii=False)  # ~2x bytes per char
    assert _code(text).code == "too_large"


def test_malformed_json_says_line_and_column():
    error = _code('{\n  "a": }')
    assert error.code == "malformed"
    assert "line 2, column 8" in error.message


@pytest.mark.parametrize("data", [b"\xff\xfe", b"[NaN]", "[Infinity]", "", "[1,]", '{"a" 1}', "]]]"])
def test_not_json_is_malformed(data):
    assert _code(data).code == "malformed"


def test_custom_limits():
    assert _code("[1, 2, 3]", max_bytes=5).code == "too_large"
    assert _code("[[1]]", max_depth=1).code == "too_deep"


def test_depth_of_is_iterative_and_bounded():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert depth_of(value) == 100_001
    assert depth_of(value, limit=MAX_NESTING) == MAX_NESTING + 1
    loop: list = []
    loop.append(loop)
    assert depth_of(loop, limit=5) == 6
    assert depth_of(3) == 0 and depth_of({}) == 1 and depth_of({"a": [1]}) == 2


@given(json_values)
def test_parse_limited_agrees_with_json_loads(value):
    text = json.dumps(value)
    if depth_of(value) <= MAX_NESTING:
        assert parse_limited(text) == json.loads(text)
    else:
        assert _code(text).code == "too_deep"
