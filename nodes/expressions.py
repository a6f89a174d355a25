"""{{ expressions }} in node config: sandboxed Jinja2 with time and size limits.

User templates are untrusted. They run in Jinja2's ImmutableSandboxedEnvironment (no
attribute tricks, no mutation of scope objects) and never reach eval/exec. On top of the
sandbox we bound what a template can cost, because the sandbox alone lets
`{% for i in range(10**5) %}{% for j in range(10**5) %}` spin forever and `'x' * 10**9`
allocate a gigabyte:

* every render_value() call has a time budget (RENDER_TIME_LIMIT_S) of the rendering
  thread's own CPU time, checked on each loop iteration, call, operator and output chunk
  (CPU, not wall time: under a burst of runs a one-line expression can wait longer than
  that for the GIL, and failing it then would fail a healthy run for the machine's load);
* each rendered string is capped at MAX_OUTPUT_CHARS;
* `*`, `**`, `%`, string formatting and numeric filter arguments are size-checked before
  they run.

A string that is exactly one `{{ expression }}` gives the expression's native value
(list, dict, number, bool, None); anything else renders to a string, where None renders
as "", booleans as true/false and lists/dicts as JSON.
"""

from __future__ import annotations

import contextvars
import json
import math
import re
import time
from functools import lru_cache, wraps
from typing import Any, Iterable, Iterator

from jinja2 import StrictUndefined, TemplateError, Undefined, nodes as jnodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

from nodes.errors import NodeConfigError

RENDER_TIME_LIMIT_S = 1.0               # per render_value() call
MAX_OUTPUT_CHARS = 1_000_000            # per rendered string / native string value
MAX_TEMPLATE_CHARS = 256_000            # longer sources are refused before compiling
MAX_SEQUENCE_ITEMS = 100_000            # `[x] * n`, list growth through operators
MAX_NUMERIC_ARG = 1_000_000             # widths/counts given to the size-making functions below
# Filters and str methods whose numeric arguments are output sizes (widths, counts). Other
# numbers (timestamps, amounts in cents) pass freely; range() is capped by the sandbox.
_SIZE_ARG_FUNCS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "indent",
                             "wordwrap", "truncate", "batch", "slice", "lipsum"})
# One filter call cannot be interrupted by the time budget, so the costly ones get bounded
# operands up front: text filters that work per character (|urlize on 1 MB took 0.6 s) and
# filters that sort, group or walk a whole sequence (|sort of a million items took 1.7 s).
MAX_FILTER_TEXT_CHARS = 100_000
_TEXT_COST_FILTERS = frozenset({"urlize", "wordwrap", "striptags", "title", "capitalize", "wordcount",
                                "truncate", "center", "indent", "format", "replace", "xmlattr", "urlencode"})
MAX_FILTER_ITEMS = 100_000
_SEQUENCE_COST_FILTERS = frozenset({"sort", "unique", "groupby", "dictsort", "map", "select", "reject",
                                    "selectattr", "rejectattr", "sum", "min", "max", "join", "list",
                                    "reverse", "batch", "slice", "tojson", "items"})
MAX_POWER_BITS = 4_096                  # `a ** b` may not produce a bigger integer
TEMPLATE_CACHE_SIZE = 1_024

_WHOLE_EXPR = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.S)
_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_NODE_REF = re.compile(r"\bnodes\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*(['\"])(.*?)\2\s*\])")
_NESTED_FIELD = re.compile(r"\{[^{}]*\{")
_BIG_FORMAT_NUMBER = re.compile(r"\d{7,}")  # a width/precision of a million or more


class _LimitExceeded(Exception):
    """A template went over a limit; turned into NodeConfigError by render_value."""


class _Budget:
    __slots__ = ("deadline",)

    def __init__(self, seconds: float):
        self.deadline = time.thread_time() + seconds


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("maily_render_budget", default=None)


def _check_time() -> None:
    budget = _budget.get()
    if budget is not None and time.thread_time() > budget.deadline:
        raise _LimitExceeded(f"expression took longer than {RENDER_TIME_LIMIT_S:g}s to render")


def _check_size(value: Any) -> None:
    if isinstance(value, (str, bytes, list, tuple, dict)) and len(value) > MAX_OUTPUT_CHARS:
        raise _LimitExceeded(f"expression result is larger than {MAX_OUTPUT_CHARS} characters/items")


def _check_numbers(name: str, args: Iterable[Any]) -> None:
    if name not in _SIZE_ARG_FUNCS:
        return
    for a in args:
        if isinstance(a, (int, float)) and not isinstance(a, bool) and abs(a) > MAX_NUMERIC_ARG:
            raise _LimitExceeded(f"{name}() argument {a!r} is too large (limit {MAX_NUMERIC_ARG})")


def _check_operand(name: str, value: Any) -> None:
    """Refuse an operand too big for a filter that cannot be stopped once it runs."""
    if name in _TEXT_COST_FILTERS and isinstance(value, str) and len(value) > MAX_FILTER_TEXT_CHARS:
        raise _LimitExceeded(f"|{name} takes text of at most {MAX_FILTER_TEXT_CHARS:,} characters, "
                             f"not {len(value):,}")
    if name in _SEQUENCE_COST_FILTERS and isinstance(value, (list, tuple, dict, str, range)) \
            and len(value) > MAX_FILTER_ITEMS:
        raise _LimitExceeded(f"|{name} takes at most {MAX_FILTER_ITEMS:,} items, not {len(value):,}")


def _estimate_growth(name: str, value: Any, args: tuple[Any, ...]) -> None:
    """Refuse replace/join/indent/expandtabs calls whose result would be huge *before* they
    allocate it (the result size check after the call would come too late)."""
    est = 0
    try:
        if name == "replace" and isinstance(value, str) and len(args) >= 2:
            est = len(value) + value.count(str(args[0]) or " ") * len(str(args[1]))
        elif name == "join" and isinstance(value, str) and args and hasattr(args[0], "__len__"):
            est = len(value) * len(args[0])          # str.join: value is the separator
        elif name == "join" and hasattr(value, "__len__") and args and isinstance(args[0], str):
            est = len(args[0]) * len(value)          # |join(sep): value is the sequence
        elif name == "indent" and isinstance(value, str) and args:
            est = len(value) + (value.count("\n") + 1) * (len(args[0]) if isinstance(args[0], str) else int(args[0]))
        elif name == "expandtabs" and isinstance(value, str) and args:
            est = len(value) + value.count("\t") * int(args[0])
    except (TypeError, ValueError):
        return
    if est > MAX_OUTPUT_CHARS:
        raise _LimitExceeded(f"{name}() would produce more than {MAX_OUTPUT_CHARS} characters")


def _check_format_string(fmt: Any) -> None:
    # "%999999999d" or "{:>999999999}" would allocate the width before we see the result.
    if isinstance(fmt, str) and _BIG_FORMAT_NUMBER.search(fmt):
        raise _LimitExceeded("format string asks for a width or precision that is too large")


def _guard_iter(iterable: Any) -> Iterator[Any]:
    """Wraps the iterable of every {% for %} so endless nested loops hit the time budget."""
    for i, item in enumerate(iterable):
        if i % 256 == 0:
            _check_time()
        yield item


def _guard_filter(func: Any) -> Any:
    # Filters receive (context|env|eval_ctx)?, value, *args: size-check the args only.
    skip = 2 if _PassArg.from_obj(func) is not None else 1

    name = getattr(func, "__name__", "").removeprefix("do_")

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_time()
        _check_numbers(name, args[skip:])
        _check_numbers(name, kwargs.values())
        if len(args) >= skip:
            _check_operand(name, args[skip - 1])
            _estimate_growth(name, args[skip - 1], tuple(args[skip:]) + tuple(kwargs.values()))
        result = func(*args, **kwargs)
        _check_size(result)
        return result

    return guarded


def _safe_format(value: Any, *args: Any, **kwargs: Any) -> str:
    _check_format_string(value)
    from jinja2.filters import do_format

    return do_format(value, *args, **kwargs)


class _Environment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "**" and isinstance(left, (int, float)) and isinstance(right, (int, float)):
            if abs(left) > 1 and right > 0 and right * math.log2(abs(left)) > MAX_POWER_BITS:
                raise _LimitExceeded(f"{left!r} ** {right!r} is too large")
        if operator == "*":
            seq, n = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_OUTPUT_CHARS:
                raise _LimitExceeded("repeating a string or list that many times is too large")
        if operator == "%":
            _check_format_string(left)
        result = super().call_binop(context, operator, left, right)
        _check_size(result)
        return result

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_time()
        # str.format arrives wrapped by the sandbox; the bound method is in __wrapped__
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(owner, str):
            name = getattr(__obj, "__name__", "")
            if name in ("format", "format_map") and _NESTED_FIELD.search(owner):
                name = "center"  # "{:>{}}" takes its width from the arguments: size-check them
            _check_numbers(name, args)
            _check_numbers(name, kwargs.values())
            _estimate_growth(name, owner, args)
        result = super().call(__context, __obj, *args, **kwargs)
        _check_size(result)
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Workflow data is JSON: `output.items` must mean the "items" key, not dict.items.
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Any:
        # str.format is wrapped at attribute access: check the format string right there.
        if isinstance(getattr(value, "__self__", None), str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _check_format_string(value.__self__)
        return super().wrap_str_format(value)

    def _parse(self, source: str, name: str | None, filename: str | None) -> jnodes.Template:
        # Route the iterable of each {% for %} through _guard_iter (a private filter).
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(jnodes.For):
            loop.iter = jnodes.Filter(loop.iter, "_maily_guard_iter", [], [], None, None, lineno=loop.lineno)
        # `a ~ b` is not an intercepted operator: route it through a size-checked join, so
        # a loop doubling a string fails at the size limit instead of exhausting memory.
        for concat in list(tree.find_all(jnodes.Concat)):
            parts = jnodes.Tuple(concat.nodes, "load", lineno=concat.lineno)
            concat.__class__ = jnodes.Filter
            concat.__init__(parts, "_maily_concat", [], [], None, None, lineno=concat.lineno)
        return tree


def _concat(parts: tuple[Any, ...]) -> str:
    strs = [p if isinstance(p, str) else str(_finalize(p)) for p in parts]
    if sum(map(len, strs)) > MAX_OUTPUT_CHARS:
        raise _LimitExceeded(f"joined text is longer than {MAX_OUTPUT_CHARS} characters")
    return "".join(strs)


def _finalize(value: Any) -> Any:
    _check_time()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


def _make_env() -> _Environment:
    env = _Environment(undefined=StrictUndefined, autoescape=False, finalize=_finalize, cache_size=0)
    env.globals.pop("lipsum", None)  # a cheap way to make megabytes of text
    env.filters["format"] = _safe_format
    env.filters = {name: _guard_filter(f) for name, f in env.filters.items()}
    env.filters["_maily_guard_iter"] = _guard_iter
    env.filters["_maily_concat"] = _concat
    return env


_ENV = _make_env()


def is_expression(s: Any) -> bool:
    """True when s is a string containing {{ ... }} or {% ... %}."""
    return isinstance(s, str) and ("{{" in s or "{%" in s)


@lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compile(source: str) -> tuple[str, Any]:
    """('expr', compiled expression) for a whole-string expression, else ('template', Template)."""
    m = _WHOLE_EXPR.match(source)
    if m:
        tree = _ENV.parse(source.strip())
        body = tree.body
        if len(body) == 1 and isinstance(body[0], jnodes.Output) and len(body[0].nodes) == 1 \
                and not isinstance(body[0].nodes[0], jnodes.TemplateData):
            inner = m.group(1)
            # strip whitespace-control markers ({{- x -}}): they are not part of the expression
            inner = inner[1:] if inner[:1] in "-+" else inner
            inner = inner[:-1] if inner[-1:] in "-+" else inner
            return "expr", _ENV.compile_expression(inner, undefined_to_none=False)
    return "template", _ENV.from_string(source)


def _native(value: Any) -> Any:
    """Turn an expression's result into plain JSON-like data."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        _check_size(value)
        return str(value)  # drops Markup
    if isinstance(value, dict):
        return {str(k): _native(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, range, Iterator)):
        out = []
        for i, v in enumerate(value):  # generators from |map, |select...
            if i % 256 == 0:
                _check_time()
            if i >= MAX_SEQUENCE_ITEMS:
                raise _LimitExceeded(f"expression result has more than {MAX_SEQUENCE_ITEMS} items")
            out.append(_native(v))
        return out
    return str(value)


def _render_str(source: str, scope: dict[str, Any]) -> Any:
    if not is_expression(source):
        return source
    if len(source) > MAX_TEMPLATE_CHARS:
        raise _LimitExceeded(f"template is longer than {MAX_TEMPLATE_CHARS} characters")
    kind, compiled = _compile(source)
    if kind == "expr":
        return _native(compiled(**scope))
    parts: list[str] = []
    size = 0
    for chunk in compiled.generate(scope):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise _LimitExceeded(f"rendered text is longer than {MAX_OUTPUT_CHARS} characters")
        parts.append(chunk)
        _check_time()
    return "".join(parts)


def _render(value: Any, scope: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return _render_str(value, scope)
    if isinstance(value, dict):
        return {k: _render(v, scope) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_render(v, scope) for v in value]
    return value


def render_value(value: Any, scope: dict[str, Any]) -> Any:
    """Render every {{ expression }} in value (a str, or dicts/lists holding strings).

    Raises NodeConfigError for syntax errors, undefined names, sandbox violations and
    limits; never anything else for bad template text."""
    token = _budget.set(_Budget(RENDER_TIME_LIMIT_S))
    try:
        return _render(value, scope)
    except NodeConfigError:
        raise
    except _LimitExceeded as e:
        raise NodeConfigError(f"expression stopped: {e}") from None
    except TemplateError as e:  # syntax, undefined (StrictUndefined), security errors
        where = f" (line {e.lineno})" if getattr(e, "lineno", None) else ""
        raise NodeConfigError(f"expression error{where}: {e.message or e}") from None
    except RecursionError:
        raise NodeConfigError("expression error: recursion too deep") from None
    except MemoryError:
        raise NodeConfigError("expression error: out of memory") from None
    except Exception as e:  # a filter or operator failed on the data (1/0, int('x'), ...)
        raise NodeConfigError(f"expression error: {type(e).__name__}: {e}") from None
    finally:
        _budget.reset(token)


def find_references(value: Any) -> set[str]:
    """Node ids referenced as nodes.<id> or nodes["<id>"] inside expressions in value."""
    found: set[str] = set()
    if isinstance(value, str):
        for block in _BLOCK.findall(value):
            for m in _NODE_REF.finditer(block):
                found.add(m.group(1) or m.group(3))
    elif isinstance(value, dict):
        for v in value.values():
            found |= find_references(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found |= find_references(v)
    return found


_FALSY_TEXT = frozenset({"", "false", "0", "no", "off", "none", "null"})


def truthy(value: Any) -> bool:
    """Truth of a rendered condition. Text from a mixed template counts as false when it
    reads like false ("false", "0", "no", "", "null"...), since `x {{ y }}` renders to text."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSY_TEXT
    return bool(value)
