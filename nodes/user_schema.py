"""Validate data against a JSON Schema a user wrote, with regexes evaluated by RE2.

jsonschema evaluates `pattern`, `patternProperties` (and `additionalProperties` next to them) with
Python's backtracking `re`: a user pattern such as `^(a+)+$` against a 30-character string takes
seconds and blocks the event loop. RE2 runs in time linear in the input, so these keywords are
re-implemented on top of it, and a pattern RE2 cannot compile (backreferences, lookaround) is refused
as a schema error naming where it sits. Every place that validates data against a user-supplied
schema goes through `validate_user_schema`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

import jsonschema
import re2
from jsonschema import Draft202012Validator, ValidationError, validators

__all__ = ["SchemaError", "ValidationError", "check_user_schema", "user_schema_errors", "validate_user_schema"]

SchemaError = jsonschema.SchemaError
_PATTERN_CACHE = 512


@lru_cache(maxsize=_PATTERN_CACHE)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern)


def _search(pattern: str, text: str) -> bool:
    try:
        return _compiled(pattern).search(text) is not None
    except re2.error:
        raise SchemaError(f"pattern {pattern!r} is not supported (no backreferences or lookaround)") from None


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any,
                        schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional(instance: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    return [k for k in instance if k not in properties and not any(_search(p, k) for p in patterns)]


def _additional_properties(validator: Any, extra_schema: Any, instance: Any,
                           schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    extras = _additional(instance, schema)
    if validator.is_type(extra_schema, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], extra_schema, path=extra)
    elif not extra_schema and extras:
        joined = ", ".join(repr(e) for e in sorted(extras))
        yield ValidationError(f"additional properties are not allowed ({joined} unexpected)")


def _user_validator(base: Any) -> Any:
    return validators.extend(base, {"pattern": _pattern, "patternProperties": _pattern_properties,
                                    "additionalProperties": _additional_properties})


_VALIDATORS: dict[Any, Any] = {}


def _check_patterns(node: Any, path: tuple[Any, ...] = ()) -> None:
    """Compile every `pattern`/`patternProperties` key up front so a bad one is refused even when unused."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                _check_one(value, (*path, key))
            if key == "patternProperties" and isinstance(value, dict):
                for p in value:
                    _check_one(p, (*path, key, p))
            _check_patterns(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_patterns(value, (*path, i))


def _check_one(pattern: str, path: tuple[Any, ...]) -> None:
    try:
        _compiled(pattern)
    except re2.error:
        where = "".join(f"/{p}" for p in path)
        raise SchemaError(f"pattern at {where} is not supported: {pattern!r} "
                          "(no backreferences or lookaround)", path=path) from None


def _check_unevaluated(schema: dict[str, Any]) -> None:
    """jsonschema decides which keys `patternProperties` evaluated, for `unevaluatedProperties`,
    with Python's `re`, outside the keywords re-implemented here. So the two may not be combined
    in a user schema: `additionalProperties` next to `patternProperties` does run on RE2."""
    unevaluated: tuple[Any, ...] | None = None
    has_patterns = False
    stack: list[tuple[Any, tuple[Any, ...]]] = [(schema, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if "unevaluatedProperties" in node and unevaluated is None:
                unevaluated = (*path, "unevaluatedProperties")
            has_patterns = has_patterns or isinstance(node.get("patternProperties"), dict)
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    if unevaluated is not None and has_patterns:
        where = "".join(f"/{p}" for p in unevaluated)
        raise SchemaError(f"{where}: unevaluatedProperties cannot be combined with patternProperties in a "
                          "user schema (its patterns would run on a backtracking regex engine); "
                          "use additionalProperties", path=unevaluated)


def check_user_schema(schema: dict[str, Any]) -> None:
    """SchemaError when `schema` is not valid JSON Schema, holds a pattern RE2 cannot run, or
    combines unevaluatedProperties with patternProperties."""
    validators.validator_for(schema, default=Draft202012Validator).check_schema(schema)
    _check_patterns(schema)
    _check_unevaluated(schema)


def user_schema_errors(instance: Any, schema: dict[str, Any], *, format_checker: Any = None) -> list[ValidationError]:
    """Every error of `instance` against an already checked `schema`, regexes evaluated by RE2."""
    base = validators.validator_for(schema, default=Draft202012Validator)
    cls = _VALIDATORS.get(base) or _VALIDATORS.setdefault(base, _user_validator(base))
    return list(cls(schema, format_checker=format_checker).iter_errors(instance))


def validate_user_schema(instance: Any, schema: dict[str, Any]) -> None:
    """Raise ValidationError when `instance` does not match `schema`, SchemaError when the schema is bad.

    Same contract as `jsonschema.validate` (best-match error, schema checked first), but regexes run
    on RE2, so the time is linear in the size of the data and the schema.
    """
    check_user_schema(schema)
    error = jsonschema.exceptions.best_match(user_schema_errors(instance, schema))
    if error is not None:
        raise error
