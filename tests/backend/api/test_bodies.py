"""One declaration per request body: what a handler reads, OpenAPI documents.

The app's routes are walked and each handler's source (and the first-party functions it hands
the request to) is read with `ast`; the body rules of backend/bodies.py are checked against the
OpenAPI document the app serves, and the errors a body can meet are checked over HTTP."""

from __future__ import annotations

import ast
import inspect
import textwrap
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest
from litestar import Litestar, post
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from pydantic import BaseModel

from backend.app import create_app
from backend.bodies import BodyPlugin, BodyRequest
from backend.errors import exception_handlers
from backend.settings import Settings

_BODY_READS = {"body", "json", "form", "msgpack", "stream"}
_READERS = {"read_json", "validate_body"}


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/never_opened",
                               secret_key="x", prefect="never", prefect_at_start=False))


def _handlers(app: Litestar) -> Iterator[tuple[str, str, Any]]:
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    if method not in ("HEAD", "OPTIONS"):
                        yield route.path_format, method, handler


def _resolve(fn: Callable[..., Any], call: ast.expr) -> Any:
    """The first-party function a call names (`helper`, `module.helper`, `self.helper`), or None."""
    names: list[str] = []
    while isinstance(call, ast.Attribute):
        names.insert(0, call.attr)
        call = call.value
    if not isinstance(call, ast.Name):
        return None
    if call.id == "self":
        owner: Any = inspect.getmodule(fn)
        for part in fn.__qualname__.split(".")[:-1]:
            owner = getattr(owner, part, None)
    else:
        owner = fn.__globals__.get(call.id)
    for name in names:
        owner = getattr(owner, name, None)
    owner = getattr(owner, "fn", owner)   # a route handler's own function
    module = getattr(inspect.getmodule(owner), "__name__", "") if callable(owner) else ""
    return owner if module.startswith("backend.") else None


def _reads_body(fn: Callable[..., Any], seen: set[Any] | None = None) -> str | None:
    """Where `fn`, or a first-party function it passes the request to, reads the request body."""
    seen = seen if seen is not None else set()
    if fn in seen or isinstance(fn, ModuleType):
        return None
    seen.add(fn)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError):
        return None
    params = {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    requests = {p for p in params if p in ("request", "connection")}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr in _BODY_READS and isinstance(f.value, ast.Name)
                and f.value.id in requests):
            return f"{fn.__module__}.{fn.__qualname__}: {f.value.id}.{f.attr}()"
        if isinstance(f, ast.Name) and f.id in _READERS:
            return f"{fn.__module__}.{fn.__qualname__}: {f.id}()"
        passes_request = any(isinstance(a, ast.Name) and a.id in requests
                             for a in [*node.args, *(k.value for k in node.keywords)])
        callee = _resolve(fn, f) if passes_request else None
        if callee is not None:
            found = _reads_body(callee, seen)
            if found:
                return found
    return None


def test_every_body_a_handler_reads_is_documented(app):
    """A handler that reads the request body, itself or through a helper, has a requestBody in OpenAPI."""
    paths = app.openapi_schema.to_schema()["paths"]
    undocumented = []
    readers = 0
    for path, method, handler in _handlers(app):
        where = "data parameter" if "data" in handler.parsed_fn_signature.parameters else _reads_body(handler.fn)
        if where is None:
            continue
        readers += 1
        if "requestBody" not in paths[path][method.lower()]:
            undocumented.append(f"{method} {path} ({where})")
    assert not undocumented, "bodies read but not in OpenAPI: " + "; ".join(undocumented)
    assert readers >= 45   # the walk found the handlers that take bodies (it is not vacuous)


def test_the_walk_finds_a_body_read_through_a_helper():
    """The source walk sees a body read by a helper the handler hands its request to."""
    from backend.runs.controllers import RunController
    from backend.triggers.controllers import deliver_webhook

    assert _reads_body(deliver_webhook.fn) is not None          # hooks.deliver reads the stream
    assert _reads_body(RunController.retry_run.fn) is None        # reads no body


def test_no_handler_declares_a_body_beside_its_parameters(app):
    """Only the raw readers (template upload and n8n import: size-capped JSON files; webhook deliveries,
    the approval link's form-or-JSON post) document a body through operation_class; every other body
    is a `data` parameter."""
    others = {p for p, m, h in _handlers(app)
              if h.operation_class.__name__ != "Operation" and "data" not in h.parsed_fn_signature.parameters}
    assert others == {"/api/templates/upload", "/api/workflows/import/n8n", "/hooks/{webhook_id}",
                      "/api/approvals/{token}"}


class _LoginIn(BaseModel):
    email: str
    password: str


@post("/login")
async def _login(data: _LoginIn) -> dict[str, str]:
    return {"email": data.email}


@post("/optional")
async def _optional(data: _LoginIn | None = None) -> dict[str, str | None]:
    return {"email": data.email if data else None}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    """An app wired like create_app's (request class, plugin, problem+json), with a 2,000-byte limit."""
    small = Litestar([_login, _optional], request_class=BodyRequest, plugins=[BodyPlugin()],
                     exception_handlers=exception_handlers())
    small.state.settings = Settings(secret_key="x", max_body_bytes=2_000)
    with TestClient(small) as c:
        yield c


def _post(client: TestClient[Any], path: str, body: bytes) -> Any:
    return client.post(path, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("body,status,expect", [
    (b"", 400, {"detail": "the request body is empty; send a JSON document"}),
    (b"   ", 400, {"detail": "the request body is empty; send a JSON document"}),
    (b"{bad", 400, {"code": "malformed"}),
    (b"[" * 60 + b"]" * 60, 400, {"code": "too_deep"}),
    (b'{"email": "' + b"x" * 3_000 + b'"}', 413, {"code": "too_large"}),
    (b'{"email": "a\\u0000@b.c", "password": "p"}', 422, {"field": "email", "pointer": "/email"}),
    (b"[1]", 422, {"detail": "the body must be a JSON object, not list", "pointer": ""}),
])
def test_a_public_body_meets_the_same_limits(client, body, status, expect):
    """A body outside the limits is the same problem+json as before the one-declaration change."""
    r = _post(client, "/login", body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert expect.items() <= r.json().items()


def test_a_wrong_field_is_named_with_pointer_and_every_error(client):
    """Fields the model refuses answer 422 naming the first, with a pointer, and list them all."""
    r = _post(client, "/login", b'{"email": 5, "password": ["x"]}')
    assert r.status_code == 422, r.text
    doc = r.json()
    assert doc["field"] == "email" and doc["pointer"] == "/email"
    assert [e["field"] for e in doc["errors"]] == ["email", "password"]
    assert all(e["pointer"] == "/" + e["field"] and e["message"] for e in doc["errors"])


def test_an_optional_body_may_be_left_out(client):
    """`data: Model | None = None`: no body is None, a body is parsed and checked like a required one."""
    assert _post(client, "/optional", b"").json() == {"email": None}
    assert _post(client, "/optional", b'{"email": "a@b.c", "password": "p"}').json() == {"email": "a@b.c"}
    assert _post(client, "/optional", b'{"email": "a@b.c"}').json()["field"] == "password"
