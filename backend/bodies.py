"""Request bodies: ONE declaration, the handler's `data: Model` parameter, both documents and parses.

Litestar documents `data` in OpenAPI from its annotation and hands the parsed value to the
handler. Two hooks make that parsing ours, so every body keeps the same limits and errors:

- `BodyRequest` (the app's `request_class`): `json()` parses with `flows.jsonlimits.parse_limited`
  (too large: 413, too deep or malformed: 400, empty: 400) and refuses NUL and unpaired
  surrogates with a 422 naming the field, before PostgreSQL would.
- `BodyPlugin` (the app's pydantic init plugin): turns the parsed JSON into the pydantic model
  with `validate_body`, so a wrong field is a 422 problem+json with `field`, `pointer` and
  `errors` (one per wrong field), not Litestar's own validation message.

A handler whose body may be left out declares `data: Model | None = None`; a free-form JSON
document is `data: Any`. A handler that reads raw bytes under limits of its own (a template
upload, the webhook deliveries) documents them with `raw_body(...)` as its `operation_class`. A body Litestar expects but that is absent is
a 400 (backend/errors.py `_from_validation`). `tests/backend/api/test_bodies.py` fails for a
handler that reads a body its OpenAPI operation does not document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from litestar import Request
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.plugins.pydantic import PydanticInitPlugin
from litestar.types import Empty
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from backend.errors import BadRequest, PayloadTooLarge, Unprocessable
from flows.graph import MAX_NESTING
from flows.jsonlimits import JsonLimitError, parse_limited
from flows.pointer import pointer

BODY_MAX_DEPTH = MAX_NESTING + 2   # a graph document (32 levels) inside {"graph": ...}

M = TypeVar("M", bound=BaseModel)

# NUL and unpaired surrogates: valid JSON escapes that PostgreSQL cannot store in text or JSONB.
_UNSTORABLE_CHARS = re.compile("[\x00\ud800-\udfff]")


def _unstorable_at(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The path of the first key or string holding a character PostgreSQL cannot store."""
    if isinstance(value, str):
        return path if _UNSTORABLE_CHARS.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            if _UNSTORABLE_CHARS.search(k):
                return (*path, k)
            found = _unstorable_at(v, (*path, k))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _unstorable_at(v, (*path, i))
            if found is not None:
                return found
    return None


async def read_json(request: Request[Any, Any, Any], *, max_depth: int = BODY_MAX_DEPTH, max_bytes: int | None = None,
                    what: str = "a JSON document") -> Any:
    """The body parsed as JSON within the limits (`max_bytes`: the app's body limit unless smaller);
    400/413/422 problems otherwise."""
    body = await request.body()   # Litestar enforces request_max_body_size (413) while reading
    if not body.strip():
        raise BadRequest(f"the request body is empty; send {what}")
    limit = request.app.state.settings.max_body_bytes
    try:
        raw = parse_limited(body, max_bytes=min(limit, max_bytes or limit), max_depth=max_depth)
    except JsonLimitError as exc:
        if exc.code == "too_large":
            raise PayloadTooLarge(exc.message, code=exc.code) from None
        raise BadRequest(exc.message, code=exc.code) from None
    where = _unstorable_at(raw)
    if where is not None:   # named here, where the field is known; the database's refusal is only the net
        field = ".".join(str(p) for p in where)
        raise Unprocessable(f"{field or 'the body'}: text must not contain NUL (\\u0000) or an unpaired "
                            "surrogate", field=field, pointer=pointer(*where))
    return raw


def validate_body(raw: Any, model: type[M]) -> M:
    """Turn parsed JSON into `model`; 422 naming every field that is wrong."""
    if not isinstance(raw, dict):
        raise Unprocessable(f"the body must be a JSON object, not {type(raw).__name__}", pointer="")
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "pointer": pointer(*e["loc"]), "message": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        first = errors[0]
        raise Unprocessable(f"{first['field']}: {first['message']}", field=first["field"],
                            pointer=first["pointer"], errors=errors) from None


class BodyRequest(Request[Any, Any, Any]):
    """The app's request class: `data` parameters are parsed by `read_json`."""

    async def json(self) -> Any:
        if self._json is Empty:
            self._json = await read_json(self)
        return self._json


def _is_model(target: Any) -> bool:
    return isinstance(target, type) and issubclass(target, BaseModel)


class BodyPlugin(PydanticInitPlugin):
    """Litestar's pydantic plugin, with `validate_body` first among its decoders, so a body's
    model errors are our 422 (the decoder's ApiError passes through Litestar's signature model)."""

    @classmethod
    def decoders(cls, validate_strict: bool = False) -> list[tuple[Callable[[Any], bool], Callable[[Any, Any], Any]]]:
        return [(_is_model, lambda model, raw: validate_body(raw, model)), *super().decoders(validate_strict)]


def raw_body(description: str, content: dict[str, Schema], *, required: bool) -> type[Operation]:
    """The `operation_class` of a handler that reads its body itself, as bytes under limits of its own
    (a template upload, the public webhook deliveries): OpenAPI shows what it accepts."""

    @dataclass
    class _RawBody(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(required=required, description=description, content={
                media: OpenAPIMediaType(schema=schema) for media, schema in content.items()})

    return _RawBody


ANY_JSON = Schema(description="any JSON document")


__all__ = ["BODY_MAX_DEPTH", "BodyPlugin", "BodyRequest", "ANY_JSON", "raw_body", "read_json", "validate_body"]
