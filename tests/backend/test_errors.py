"""Every class of bad input answers 4xx application/problem+json with a clear message."""

from __future__ import annotations

import logging

import pytest
from litestar import get

from backend.app import create_app
from tests.backend.conftest import assert_problem


async def test_malformed_json_is_400(client, tenant_a):
    r = await client.post("/api/workflows", content=b'{"name": "x",', headers={**tenant_a.editor.headers,
                                                                           "content-type": "application/json"})
    doc = assert_problem(r, 400)
    assert "JSON" in doc["detail"]


async def test_empty_body_is_400(client, tenant_a):
    assert_problem(await client.post("/api/graph/validate", content=b"", headers=tenant_a.viewer.headers), 400)


@pytest.mark.parametrize("path", ["/api/workflows", "/api/graph/validate", "/api/auth/login"])
async def test_100000_deep_json_is_400_not_500(client, tenant_a, path):
    body = b"[" * 100_000 + b"]" * 100_000
    doc = assert_problem(await client.post(path, content=body, headers=tenant_a.editor.headers), 400)
    assert "deep" in doc["detail"]


async def test_7mb_body_is_413(client, tenant_a):
    body = b'{"name": "' + b"x" * (7 * 1024 * 1024) + b'"}'
    assert_problem(await client.post("/api/workflows", content=body, headers=tenant_a.editor.headers), 413)


async def test_wrong_type_is_422_naming_the_field(client, tenant_a):
    r = await client.post("/api/workflows", json={"name": 42}, headers=tenant_a.editor.headers)
    doc = assert_problem(r, 422)
    assert doc["field"] == "name" and doc["pointer"] == "/name" and "name" in doc["detail"]


async def test_body_that_is_not_an_object_is_422(client, tenant_a):
    assert_problem(await client.post("/api/workflows", json=[1], headers=tenant_a.editor.headers), 422)


async def test_unknown_route_is_404(client):
    doc = assert_problem(await client.get("/api/does-not-exist"), 404)
    assert doc["instance"] == "/api/does-not-exist"


async def test_wrong_method_is_405(client):
    assert_problem(await client.patch("/api/health"), 405)


async def test_bad_ids_are_404(client, tenant_a):
    h = tenant_a.viewer.headers
    assert_problem(await client.get("/api/workflows/not-a-uuid", headers=h), 404)
    assert_problem(await client.get("/api/workflows/%00%ff", headers=h), 404)
    assert_problem(await client.get("/api/workflows/0123456789abcdef0123456789abcdef/versions/abc", headers=h), 404)


async def test_unknown_query_enum_is_400(client, tenant_a):
    assert_problem(await client.get("/api/workflows?order=nope", headers=tenant_a.viewer.headers), 400)
    assert_problem(await client.get("/api/workflows?limit=-1", headers=tenant_a.viewer.headers), 400)


async def test_unexpected_exception_is_500_problem_with_correlation_id(settings, caplog):
    @get("/api/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internals")

    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(create_app(settings, extra_route_handlers=[boom])) as c:
        with caplog.at_level(logging.ERROR, logger="maily.api"):
            doc = assert_problem(await c.get("/api/boom"), 500)
    assert doc["correlation_id"] and "secret internals" not in doc["detail"]
    assert any(doc["correlation_id"] in r.getMessage() for r in caplog.records)


async def test_text_postgresql_cannot_store_is_422_naming_the_field(client, tenant_a):
    """A NUL character in a text field, or an unpaired surrogate in a JSON document, is the
    client's input PostgreSQL refuses: 422 with the field's pointer, never a 500."""
    h = tenant_a.owner.headers
    doc = assert_problem(await client.post("/api/auth/tokens", json={"name": "a\u0000b"}, headers=h), 422)
    assert doc["pointer"] == "/name"
    body = b'{"name": "w", "graph": {"nodes": [], "edges": [], "x": "\\udbe5"}}'
    doc = assert_problem(await client.post("/api/workflows", content=body,
                                           headers={**h, "content-type": "application/json"}), 422)
    assert doc["pointer"] == "/graph/x" and doc["field"] == "graph.x"
