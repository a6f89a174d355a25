"""Every error the API answers, as RFC 9457 problem details, decided in ONE place.

Handlers raise `ApiError` subclasses (or let Litestar raise its own); `exception_handlers()`
maps each of them, and anything unexpected, to `application/problem+json`. A 500 carries a
`correlation_id` that is also in the log line, so a user report finds the traceback.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend.collab.convert import UnrepresentableGraph
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
    if _body_missing(exc):
        return problem(400, "the request body is empty; send a JSON document", instance=request.url.path,
                       slug="bad-request", title="Bad request")
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


def _body_missing(exc: ValidationException) -> bool:
    """A handler's required `data` got no body at all (Litestar leaves the field out, msgspec says so)."""
    cause = exc.__cause__
    return isinstance(cause, msgspec.ValidationError) and str(cause) == "Object missing required field `data`"


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


__all__ = ["ApiError", "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict",
           "PayloadTooLarge", "Unprocessable", "ServiceUnavailable", "overload", "problem", "exception_handlers", "PROBLEM_JSON"]
