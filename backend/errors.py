"""Every error the API answers, as RFC 9457 problem details, decided in ONE place.

Handlers raise `ApiError` subclasses (or let Litestar raise its own); `exception_handlers()`
maps each of them, and anything unexpected, to `application/problem+json`. A 500 carries a
`correlation_id` that is also in the log line, so a user report finds the traceback.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend.collab.convert import UnrepresentableGraph
from flows.graph import MAX_NESTING
from flows.jsonlimits import JsonLimitError, parse_limited
from flows.pointer import pointer
from flows.prefect_server import PrefectUnavailable
from nodes.sdk import new_correlation_id

log = logging.getLogger("maily.api")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://maily.flow/problems/"


class ApiError(Exception):
    """An error meant for the client. `extensions` are merged into the problem document."""

    status: int = 500
    slug: str = "internal"
    title: str = "Internal server error"

    def __init__(
        self,
        detail: str = "",
        *,
        field: str | None = None,
        pointer: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers
        self.extensions: dict[str, Any] = dict(extensions)
        if field is not None:
            self.extensions["field"] = field
        if pointer is not None:
            self.extensions["pointer"] = pointer


class BadRequest(ApiError):
    status, slug, title = 400, "bad-request", "Bad request"


class ServiceUnavailable(ApiError):
    """Overload or a dependency restarting: the client should try again after Retry-After."""

    status, slug, title = 503, "unavailable", "Service unavailable"

    def __init__(self, detail: str = "", *, retry_after_s: int = 5, **extensions: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)}, retry_after_s=retry_after_s,
                         **extensions)


def overload(exc: Exception) -> ServiceUnavailable | None:
    """The one mapping of overload to 503: the database pool exhausted (sqlalchemy's
    TimeoutError after MAILY_DB_POOL_TIMEOUT_S) or the Prefect server not answering."""
    if isinstance(exc, PoolTimeout):
        return ServiceUnavailable("the server is busy (every database connection is in use); try again shortly",
                                  retry_after_s=2)
    if isinstance(exc, PrefectUnavailable):
        return ServiceUnavailable(f"the run orchestrator is restarting: {exc}", retry_after_s=5)
    return None


class Unauthorized(ApiError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str = "", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="maily"'})
        super().__init__(detail, **kw)


class Forbidden(ApiError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ApiError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(ApiError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(ApiError):
    status, slug, title = 409, "conflict", "Conflict"


class Gone(ApiError):
    status, slug, title = 410, "gone", "Gone"


class PayloadTooLarge(ApiError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class Unprocessable(ApiError):
    """422. `problems` is the list of graph validation problems (node_id/edge_id/pointer)."""

    status, slug, title = 422, "unprocessable", "Unprocessable content"

    def __init__(self, detail: str = "", *, problems: list[dict[str, Any]] | None = None, **kw: Any) -> None:
        if problems is not None:
            kw["problems"] = problems
        super().__init__(detail, **kw)


class UnsupportedMediaType(ApiError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class TooManyRequests(ApiError):
    status, slug, title = 429, "too-many-requests", "Too many requests"


_SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
          405: "method-not-allowed", 409: "conflict", 410: "gone", 413: "payload-too-large", 415: "unsupported-media-type",
          422: "unprocessable", 429: "too-many-requests", 500: "internal", 503: "unavailable"}


def problem(status: int, detail: str, *, title: str | None = None, slug: str | None = None,
            instance: str | None = None, **extensions: Any) -> dict[str, Any]:
    """The problem document itself (also used by WebSocket handlers before closing)."""
    try:
        default_title = HTTPStatus(status).phrase
    except ValueError:
        default_title = "Error"
    doc: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or _SLUGS.get(status, str(status))),
        "title": title or default_title,
        "status": status,
        "detail": detail,
    }
    if instance:
        doc["instance"] = instance
    doc.update({k: v for k, v in extensions.items() if v is not None})
    return doc


def _response(doc: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=doc, status_code=doc["status"], media_type=PROBLEM_JSON, headers=headers)


def _from_validation(request: Request[Any, Any, Any], exc: ValidationException) -> dict[str, Any]:
    """Litestar's own parameter/body validation: name the field(s) that failed."""
    errors = exc.extra if isinstance(exc.extra, list) else []
    fields = [e for e in errors if isinstance(e, dict)]
    first = fields[0] if fields else {}
    key = first.get("key")
    source = first.get("source")
    # A path parameter that does not parse names no resource: 404. Query/header values
    # (unknown enum value, bad int): 400. Body fields: 422.
    if source == "path":
        status = 404
    else:
        status = 400 if source in ("query", "header", "cookie") or not key else 422
    message = first.get("message") or exc.detail
    detail = f"{key}: {message}" if key else str(message)
    return problem(
        status, detail, instance=request.url.path, field=key or None,
        errors=[{"field": e.get("key"), "source": e.get("source"), "message": e.get("message")} for e in fields] or None,
    )


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    path = request.url.path
    exc = overload(exc) or exc
    if isinstance(exc, ApiError):
        doc = problem(exc.status, exc.detail, title=exc.title, slug=exc.slug, instance=path, **exc.extensions)
        return _response(doc, exc.headers)
    if isinstance(exc, ValidationException):
        return _response(_from_validation(request, exc))
    if isinstance(exc, HTTPException):
        status = exc.status_code
        if status >= 500:
            return _internal(request, exc)
        detail = exc.detail
        if status == 404 and detail == "Not Found":
            detail = f"nothing at {path}"
        if status == 413:
            detail = "the request body is larger than the limit"
        return _response(problem(status, str(detail), instance=path), exc.headers)
    if isinstance(exc, UnrepresentableGraph):   # a graph the shared document cannot hold
        extra = {"node_id": exc.node_id} if exc.node_id else {}
        return _response(problem(422, str(exc), instance=path, slug="unprocessable", title="Unprocessable content",
                                 field="graph", pointer=exc.pointer, **extra))
    # Body parsing outside our read_json (Litestar's automatic `data`) can meet these.
    if isinstance(exc, (msgspec.DecodeError, UnicodeDecodeError)):
        return _response(problem(400, f"malformed JSON: {exc}", instance=path))
    if isinstance(exc, RecursionError):
        return _response(problem(400, "the JSON body nests too deep", instance=path))
    if _unstorable_text(exc):
        return _response(problem(422, "a text value holds a character the database cannot store (NUL, U+0000, or "
                                      "an unpaired surrogate)", instance=path, slug="unprocessable",
                                 title="Unprocessable content"))
    return _internal(request, exc)


# PostgreSQL's SQLSTATEs for text it cannot hold: NUL in text (22021), \u0000 in JSONB (22P05) and
# an unpaired surrogate in JSONB (22P02). Whatever field carried it, it is the client's input, never a 500.
_UNSTORABLE_TEXT = {"22021", "22P05", "22P02"}


def _unstorable_text(exc: Exception) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    cause = exc.orig
    while cause is not None:
        if getattr(cause, "sqlstate", None) in _UNSTORABLE_TEXT:
            return True
        cause = cause.__cause__
    return False


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    cid = new_correlation_id()
    log.error("unhandled error %s on %s %s", cid, request.method, request.url.path,
              exc_info=exc, extra={"correlation_id": cid})
    doc = problem(500, "an unexpected error happened; quote the correlation id when reporting it",
                  instance=request.url.path, correlation_id=cid)
    return _response(doc)


def exception_handlers() -> dict[type[Exception] | int, Any]:
    # Registering on Exception (and 404/405, which the router raises before any handler)
    # makes problem+json the only error format, including Litestar's own exceptions.
    return {Exception: handle_exception, 404: handle_exception, 405: handle_exception, 500: handle_exception}



# --- reading request bodies -----------------------------------------------------------
# Handlers read JSON bodies through these instead of Litestar's automatic `data` parsing:
# the parser refuses 100,000-deep nesting up front (json/msgspec would hit RecursionError)
# and every failure becomes a precise 400/413/422.

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


async def read_json(request: Request[Any, Any, Any], *, max_depth: int = BODY_MAX_DEPTH) -> Any:
    body = await request.body()   # Litestar enforces request_max_body_size (413) while reading
    if not body.strip():
        raise BadRequest("the request body is empty; send a JSON document")
    try:
        raw = parse_limited(body, max_bytes=request.app.state.settings.max_body_bytes, max_depth=max_depth)
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


async def read_body(request: Request[Any, Any, Any], model: type[M]) -> M:
    return validate_body(await read_json(request), model)


__all__ = ["ApiError", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict",
           "PayloadTooLarge", "Unprocessable", "ServiceUnavailable", "overload", "problem", "exception_handlers", "PROBLEM_JSON",
           "read_json", "read_body", "validate_body"]


def json_body(model: type[BaseModel], description: str = "") -> type:
    """An `operation_class` documenting `model` as the JSON request body of a handler that
    reads it with read_body() (Litestar cannot see a body it does not parse itself)."""
    from dataclasses import dataclass

    from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody

    schema = _inline_defs(model.model_json_schema())

    @dataclass
    class _WithBody(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={"application/json": OpenAPIMediaType(schema=schema)},  # type: ignore[arg-type]
                description=description or model.__doc__, required=True,
            )

    return _WithBody


def _inline_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace local `#/$defs/X` references by their definitions (our bodies are not recursive),
    since a `$defs` nested in an OpenAPI document cannot be referenced by `#/$defs/...`."""
    defs = schema.pop("$defs", {})

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            ref = v.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.split("/")[-1]])
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(schema)
