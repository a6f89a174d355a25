"""n8n expressions to ours, only where the translation is exact.

An n8n parameter string that starts with `=` is a template: text with `{{ JavaScript }}` parts.
We translate a part only when it is a plain *path*: a root followed by `.name`, `["key"]` or
`[0]` steps, nothing else (no operators, calls, `?.`, `$now`...). Roots:

| n8n | ours |
| --- | --- |
| `$json`, `$input.item.json`, `$input.first().json` | `input` |
| `$('Name').item.json`, `$('Name').first().json`, `$node["Name"].json` | `nodes.<id>.output` |

Reading a path is the same in both languages when the fields exist (a missing field is an
error here, `undefined` in n8n: docs/integrations.md). Anything else is kept as the original
text and the caller reports it. A literal string (no `=`) that holds `{{`/`{%`/`{#` is wrapped
in `{% raw %}` so our renderer leaves it as text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

_IDENT = r"[A-Za-z_$][A-Za-z0-9_$]*"
_QUOTED = r"'[^'\\\n]*'|\"[^\"\\\n]*\""
_ROOT = re.compile(
    r"\$json"
    r"|\$input\s*\.\s*(?:item|first\s*\(\s*\))\s*\.\s*json"
    rf"|\$\(\s*(?P<name>{_QUOTED})\s*\)\s*\.\s*(?:item|first\s*\(\s*\))\s*\.\s*json"
    rf"|\$node\s*\[\s*(?P<name2>{_QUOTED})\s*\]\s*\.\s*json")
_STEP = re.compile(rf"\s*(?:\.\s*(?P<ident>{_IDENT})|\[\s*(?:(?P<key>{_QUOTED})|(?P<index>0|[1-9][0-9]{{0,8}}))\s*\])")
_PART = re.compile(r"\{\{(.*?)\}\}", re.S)
_JINJA_OPEN = re.compile(r"\{\{|\{%|\{#")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SAFE_KEY = re.compile(r"^[\x20-\x7e]*$")   # printable ASCII: no escapes needed in a Jinja string
# names Jinja parses as something else after a dot
_JINJA_WORDS = frozenset({"and", "or", "not", "in", "is", "if", "else", "true", "false", "none",
                          "True", "False", "None"})


class Untranslated(Exception):
    """Why an expression was kept as it is (becomes a report note)."""


@dataclass(frozen=True)
class Scope:
    """What the roots mean in one node: node names to our ids, and what `$json` is (None: no equivalent)."""

    names: Mapping[str, str]
    json_root: str | None = "input"


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _key(step: re.Match[str]) -> tuple[str, str | int]:
    if step["ident"] is not None:
        return "key", step["ident"]
    if step["key"] is not None:
        return "key", step["key"][1:-1]
    return "index", int(step["index"])


def _jinja_step(kind: str, key: str | int) -> str:
    if kind == "index":
        return f"[{key}]"
    assert isinstance(key, str)
    if _PLAIN_NAME.match(key) and key not in _JINJA_WORDS:
        return f".{key}"
    if not _SAFE_KEY.match(key):
        raise Untranslated(f"the key {key!r} has characters that need escaping")
    return "[" + json.dumps(key) + "]"


def translate_path(js: str, scope: Scope) -> str:
    """One `{{ }}` part's JavaScript as a Jinja expression; Untranslated when it is not a plain path."""
    src = js.strip()
    root = _ROOT.match(src)
    if root is None:
        raise Untranslated(f"{{{{{js}}}}} is not a plain field reference")
    quoted = root["name"] or root["name2"]
    if quoted is None:
        if scope.json_root is None:
            raise Untranslated("$json has no equivalent in this node")
        out = scope.json_root
    else:
        name = quoted[1:-1]
        node_id = scope.names.get(name)
        if node_id is None:
            raise Untranslated(f"it refers to node {name!r}, which was not imported as a node")
        out = f"nodes.{node_id}.output"
    pos = root.end()
    while pos < len(src):
        step = _STEP.match(src, pos)
        if step is None or step.end() == pos:
            raise Untranslated(f"{{{{{js}}}}} is not a plain field reference")
        out += _jinja_step(*_key(step))
        pos = step.end()
    return out


def _literal(text: str, in_template: bool = True) -> str:
    """Text kept as text. Inside a template Jinja turns \r and \r\n into \n and drops one trailing
    newline: such text has no exact form, so it is reported (the caller checks the trailing newline)."""
    if not in_template and not _JINJA_OPEN.search(text):
        return text
    if "\r" in text:
        raise Untranslated("the text around the expression holds a carriage return")
    if not _JINJA_OPEN.search(text):
        return text
    if "endraw" in text:
        raise Untranslated("the text holds both '{{' and 'endraw'")
    return "{% raw %}" + text + "{% endraw %}"


def translate_string(value: str, scope: Scope) -> str:
    """An n8n parameter string in our syntax; Untranslated (keep the original) when not exact."""
    if not value.startswith("="):
        out = _literal(value, in_template=False)
        if out != value and value.endswith("\n"):
            raise Untranslated("text ending in a newline next to '{{' has no exact form")
        return out
    body, out, pos = value[1:], [], 0
    if body.endswith("\n"):
        raise Untranslated("the template ends in a newline, which our renderer drops")
    for part in _PART.finditer(body):
        out.append(_literal(body[pos:part.start()]))
        out.append("{{ " + translate_path(part.group(1), scope) + " }}")
        pos = part.end()
    out.append(_literal(body[pos:]))
    return "".join(out)


def translate_value(value: Any, scope: Scope, notes: list[str], where: str) -> Any:
    """Strings (also inside lists and objects) translated; an untranslatable one is kept and noted."""
    if isinstance(value, str):
        try:
            return translate_string(value, scope)
        except Untranslated as exc:
            notes.append(f"{where}: kept n8n expression {value!r} ({exc})")
            return value
    if isinstance(value, list):
        return [translate_value(v, scope, notes, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: translate_value(v, scope, notes, f"{where}.{k}") for k, v in value.items()}
    return value


def whole_path(value: Any, scope: Scope) -> str | None:
    """The Jinja expression of a string that is exactly `={{ path }}`, else None."""
    if not isinstance(value, str) or not value.startswith("="):
        return None
    m = re.fullmatch(r"\s*\{\{(.*)\}\}\s*", value[1:], re.S)
    if m is None or "}}" in m.group(1):
        return None
    try:
        return translate_path(m.group(1), scope)
    except Untranslated:
        return None
