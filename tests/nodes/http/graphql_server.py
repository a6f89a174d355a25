"""A real GraphQL server for the http.graphql tests: graphql-core (the reference implementation's
Python port) executing a small schema, served over HTTP by a Starlette app in uvicorn on loopback.

Routes: /graphql (open), /private (needs `Authorization: Bearer good-token`, else 401),
/flaky (answers 503 with Retry-After while `state.failures` lasts), /slow (answers once
`state.release` is set), /strict (refuses a document that does not validate with 400, as
GraphQL over HTTP's application/graphql-response+json does)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from graphql import build_schema, graphql, parse, validate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.live_server import serving

SCHEMA = build_schema("""
    type Query { hello(name: String!): String!  boom: String  whoami: String }
    type Mutation { add(a: Int!, b: Int!): Int! }
""")


class Root:
    def __init__(self, request: Request):
        self.request = request

    def hello(self, info: Any, name: str) -> str:
        return f"hello {name}"

    def boom(self, info: Any) -> str:
        raise ValueError("boom failed")

    def whoami(self, info: Any) -> str | None:
        return self.request.headers.get("authorization")

    def add(self, info: Any, a: int, b: int) -> int:
        return a + b


@dataclass
class State:
    requests: int = 0
    failures: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    bodies: list[dict[str, Any]] = field(default_factory=list)


def _app(state: State) -> Starlette:
    async def execute(request: Request) -> JSONResponse:
        body = await request.json()
        state.bodies.append(body)
        result = await graphql(SCHEMA, body["query"], root_value=Root(request),
                               variable_values=body.get("variables"), operation_name=body.get("operationName"))
        return JSONResponse(result.formatted)

    async def open_(request: Request) -> JSONResponse:
        state.requests += 1
        return await execute(request)

    async def private(request: Request) -> JSONResponse:
        state.requests += 1
        if request.headers.get("authorization") != "Bearer good-token":
            return JSONResponse({"errors": [{"message": "not authenticated"}]}, status_code=401)
        return await execute(request)

    async def flaky(request: Request) -> JSONResponse:
        state.requests += 1
        if state.failures > 0:
            state.failures -= 1
            return JSONResponse({"errors": [{"message": "overloaded"}]}, status_code=503, headers={"Retry-After": "0"})
        return await execute(request)

    async def slow(request: Request) -> JSONResponse:
        state.requests += 1
        await request.json()   # read before waiting (Starlette keeps it): the client hangs up meanwhile
        await asyncio.wait_for(state.release.wait(), 30)
        return await execute(request)

    async def strict(request: Request) -> JSONResponse:
        state.requests += 1
        errors = validate(SCHEMA, parse((await request.json())["query"]))
        if errors:
            return JSONResponse({"errors": [e.formatted for e in errors]}, status_code=400,
                                media_type="application/graphql-response+json")
        return await execute(request)

    return Starlette(routes=[Route("/graphql", open_, methods=["POST"]), Route("/private", private, methods=["POST"]),
                             Route("/flaky", flaky, methods=["POST"]), Route("/slow", slow, methods=["POST"]),
                             Route("/strict", strict, methods=["POST"])])


@asynccontextmanager
async def graphql_server() -> AsyncIterator[tuple[str, State]]:
    """("http://127.0.0.1:<port>", its state) while the block runs."""
    state = State()
    async with serving(_app(state)) as address:
        try:
            yield f"http://{address}", state
        finally:
            state.release.set()
