"""The n8n expression translator: plain field paths become our Jinja and read the same value;
everything else is kept as it was and reported."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from nodes.expressions import render_value
from templates.n8n.expressions import Scope, Untranslated, translate_string, translate_value

SCOPE = Scope({"Fetch order": "Fetch_order", "Prepare": "Prepare"})

# keys n8n users write: identifiers (some Jinja words among them) and keys with spaces or punctuation
_keys = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
                  st.sampled_from(["and", "items", "in", "true", "none", "keys", "first name", "a-b", "x.y", "$id", 'say "hi"', "it's"]))
_leaves = st.one_of(st.integers(-10**6, 10**6), st.text(max_size=10), st.booleans(), st.none())


@st.composite
def _data_and_path(draw):
    """A nested object and a path of steps into it that exists: [(key or index), ...]."""
    steps, root = [], {}
    node: dict | list = root
    for _ in range(draw(st.integers(1, 4))):
        if isinstance(node, dict):
            key = draw(_keys)
            steps.append(key)
            child = draw(st.sampled_from(["dict", "list", "leaf"]))
            node[key] = {} if child == "dict" else [] if child == "list" else draw(_leaves)
            node = node[key]
        elif isinstance(node, list):
            pad = draw(st.integers(0, 2))
            node.extend(draw(_leaves) for _ in range(pad))
            steps.append(pad)
            node.append({})
            node = node[pad]
        else:
            break
    return root, steps


def _js(steps, style) -> str:
    out = []
    for s in steps:
        if isinstance(s, int):
            out.append(f"[{s}]")
        elif style == "dot" and s.replace("_", "a").isalnum() and not s[0].isdigit():
            out.append(f".{s}")
        else:
            out.append(f'["{s}"]' if "'" in s else f"['{s}']")
    return "".join(out)


def _walk(data, steps):
    for s in steps:
        data = data[s]
    return data


class TestPathsReadTheSameValue:
    @settings(max_examples=150, deadline=None)
    @given(_data_and_path(), st.sampled_from(["dot", "bracket"]),
           st.sampled_from(["$json", "$input.item.json", "$input.first().json"]))
    def test_input_paths(self, case, style, root):
        """`={{ $json... }}` becomes a whole expression on `input` that renders to the value n8n reads."""
        data, steps = case
        ours = translate_string("={{ " + root + _js(steps, style) + " }}", SCOPE)
        assert render_value(ours, {"input": data}) == _walk(data, steps)

    @settings(max_examples=100, deadline=None)
    @given(_data_and_path(), st.sampled_from(["$('Fetch order').item.json", "$node[\"Fetch order\"].json",
                                              "$('Fetch order').first().json"]))
    def test_other_node_paths(self, case, root):
        """A reference to another node reads that node's output through `nodes.<id>.output`."""
        data, steps = case
        ours = translate_string("={{" + root + _js(steps, "dot") + "}}", SCOPE)
        assert ours.startswith("{{ nodes.Fetch_order.output")
        assert render_value(ours, {"nodes": {"Fetch_order": {"output": data}}}) == _walk(data, steps)

    @settings(max_examples=100, deadline=None)
    @given(st.text(alphabet=st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=20),
           st.text(max_size=8))
    def test_text_around_an_expression(self, before, name):
        """Text around the parts stays text and the part renders the field into it; only a carriage
        return, which Jinja rewrites as a newline, is refused."""
        try:
            ours = translate_string("=" + before + "{{ $json.name }}!", SCOPE)
        except Untranslated:
            assert "\r" in before
            return
        assert render_value(ours, {"input": {"name": name}}) == before + name + "!"


class TestLiterals:
    @settings(max_examples=100, deadline=None)
    @given(st.text(max_size=30).filter(lambda t: not t.startswith("=") and "endraw" not in t))
    def test_a_literal_renders_as_itself(self, text):
        """A string without `=` is literal in n8n, and stays literal here even when it holds `{{` (or is
        refused when Jinja would rewrite its newlines)."""
        try:
            ours = translate_string(text, SCOPE)
        except Untranslated:
            assert "\r" in text or text.endswith("\n")
            return
        assert render_value(ours, {}) == text

    def test_braces_in_a_literal_are_protected(self):
        """`{{ x }}` in n8n literal text is wrapped in a raw block instead of becoming an expression."""
        assert translate_string("Hi {{ name }}", SCOPE) == "{% raw %}Hi {{ name }}{% endraw %}"


class TestKeptAndReported:
    @pytest.mark.parametrize("expr", [
        "={{ $json.total * 2 }}", "={{ $json.name.toUpperCase() }}", "={{ $now }}", "={{ $json?.a }}",
        "={{ $json[-1] }}", "={{ $('Nowhere').item.json.x }}", "={{ $items()[0].json.x }}",
        "={{ $json.a }} and {{ $json.b + 1 }}",
    ])
    def test_not_a_plain_path(self, expr):
        """Anything but a plain path (or a path into a node that was not imported) is refused by the translator."""
        with pytest.raises(Untranslated):
            translate_string(expr, SCOPE)

    def test_translate_value_keeps_the_original_and_notes_where(self):
        """In a config value, an untranslatable string stays as it was and a note names its place."""
        notes: list[str] = []
        value = {"a": "={{ $json.x }}", "b": ["={{ $json.x + 1 }}"]}
        out = translate_value(value, SCOPE, notes, "values")
        assert out == {"a": "{{ input.x }}", "b": ["={{ $json.x + 1 }}"]}
        assert len(notes) == 1 and notes[0].startswith("values.b[0]: kept n8n expression")

    def test_json_without_an_equivalent(self):
        """Where `$json` has no counterpart (scope json_root None) it is reported, not guessed."""
        with pytest.raises(Untranslated, match=r"\$json has no equivalent"):
            translate_string("={{ $json.email }}", Scope({}, json_root=None))


def test_keys_needing_quotes_use_brackets():
    """Keys that are not plain names, or are Jinja words, are read with ["..."]."""
    assert translate_string("={{ $json['first name'].in }}", SCOPE) == '{{ input["first name"]["in"] }}'
    assert json.loads('"x"') == "x"
