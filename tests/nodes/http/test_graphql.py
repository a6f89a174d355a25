"""http.graphql against a real GraphQL server on loopback (graphql-core in uvicorn): data, partial
errors, variables, credentials, temporary and permanent failures, timeouts, and the engine's retries."""

from __future__ import annotations

import pytest

from nodes.credentials import MemoryCredentials, ResolvedCredential
from nodes.http import graphql
from nodes.net import BlockedAddressError
from nodes.sdk import NodeConfigError, NodeTemporaryError
from tests.nodes.engine_run import run_node
from tests.nodes.http.graphql_server import graphql_server

GOOD = ResolvedCredential("good", "bearer", {"token": "good-token"}, ("token",))
BAD = ResolvedCredential("bad", "bearer", {"token": "stale-token"}, ("token",))


@pytest.fixture
async def server():
    async with graphql_server() as (url, state):
        yield url, state


@pytest.fixture
def ctx(make_ctx, loopback_client):
    return make_ctx(http=loopback_client, services={"credentials": MemoryCredentials({"good": GOOD, "bad": BAD})})


async def test_a_query_with_variables_outputs_its_data(ctx, server):
    """Variables and the operation name reach the server; the output is {data, errors: []}."""
    url, state = server
    query = "query A($n: String!) { hello(name: $n) } query B { boom }"
    out = await graphql.execute(ctx, graphql.Config(url=f"{url}/graphql", query=query, variables={"n": "ann"},
                                                    operation_name="A"), {})
    assert out["output"] == {"data": {"hello": "hello ann"}, "errors": []}
    assert state.bodies[-1]["operationName"] == "A"


async def test_a_mutation_runs(ctx, server):
    """A mutation's result is in data."""
    url, _ = server
    config = graphql.Config(url=f"{url}/graphql", query="mutation { add(a: 2, b: 40) }")
    assert (await graphql.execute(ctx, config, {}))["output"]["data"] == {"add": 42}


async def test_partial_data_comes_out_with_its_errors(ctx, server):
    """A field that failed leaves the rest of data, and its error is in errors; the node succeeds."""
    url, _ = server
    out = (await graphql.execute(ctx, graphql.Config(url=f"{url}/graphql", query='{ hello(name: "x") boom }'), {}))
    assert out["output"]["data"] == {"hello": "hello x", "boom": None}
    assert out["output"]["errors"][0]["message"] == "boom failed"


async def test_errors_without_data_fail_the_node_with_the_message(ctx, server):
    """A document the server cannot execute fails at /query, naming GraphQL's message."""
    url, _ = server
    with pytest.raises(NodeConfigError) as err:
        await graphql.execute(ctx, graphql.Config(url=f"{url}/graphql", query="{ nosuchfield }"), {})
    assert err.value.pointer == "/query" and "nosuchfield" in err.value.message


async def test_a_4xx_with_graphql_errors_is_permanent_and_names_them(ctx, server):
    """A 400 graphql-response answer fails at /query with the first error's message."""
    url, _ = server
    with pytest.raises(NodeConfigError) as err:
        await graphql.execute(ctx, graphql.Config(url=f"{url}/strict", query="{ nosuchfield }"), {})
    assert "400" in err.value.message and "nosuchfield" in err.value.message and err.value.pointer == "/query"


async def test_the_credential_is_sent_and_a_refused_one_names_the_field(ctx, server):
    """A bearer credential authenticates; a stale token's 401 fails at /credential."""
    url, _ = server
    out = await graphql.execute(ctx, graphql.Config(url=f"{url}/private", query="{ whoami }", credential="good"), {})
    assert out["output"]["data"] == {"whoami": "Bearer good-token"} and "good-token" in ctx.redactor.values
    with pytest.raises(NodeConfigError) as err:
        await graphql.execute(ctx, graphql.Config(url=f"{url}/private", query="{ whoami }", credential="bad"), {})
    assert err.value.pointer == "/credential" and "401" in err.value.message


async def test_a_503_is_temporary_and_carries_retry_after(ctx, server):
    """503 with Retry-After raises NodeTemporaryError with that delay."""
    url, state = server
    state.failures = 1
    with pytest.raises(NodeTemporaryError) as err:
        await graphql.execute(ctx, graphql.Config(url=f"{url}/flaky", query="{ boom }"), {})
    assert err.value.retry_after == 0 and "503" in err.value.message


async def test_a_slow_server_times_out_as_temporary(make_ctx, server, monkeypatch):
    """With no client injected, timeout_s bounds the request: a server that does not answer is a temporary failure."""
    url, _ = server
    monkeypatch.setenv("MAILY_HTTP_ALLOWED_HOSTS", "127.0.0.1")
    with pytest.raises(NodeTemporaryError, match="took longer than 0.3s"):
        await graphql.execute(make_ctx(), graphql.Config(url=f"{url}/slow", query="{ boom }", timeout_s=0.3), {})


async def test_a_private_endpoint_is_refused(make_ctx, server, monkeypatch):
    """Loopback is refused when the operator has not allowed it, before anything is sent."""
    url, state = server
    monkeypatch.delenv("MAILY_HTTP_ALLOWED_HOSTS", raising=False)
    with pytest.raises(BlockedAddressError):
        await graphql.execute(make_ctx(), graphql.Config(url=f"{url}/graphql", query="{ boom }"), {})
    assert state.requests == 0


async def test_the_engine_retries_a_503_and_the_run_succeeds(server, loopback_client):
    """Through the engine, one 503 is retried and the second attempt's data is the run's output."""
    url, state = server
    state.failures = 1
    outcome, events = await run_node("http.graphql", {"url": f"{url}/flaky", "query": '{ hello(name: "{{ run.id }}") }'},
                                     http=loopback_client)
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output["call"]["data"] == {"hello": "hello r1"}
    assert events.kinds("call") == ["node.started", "node.retrying", "node.succeeded"] and state.requests == 2


async def test_the_engine_does_not_retry_a_refused_credential(server, loopback_client):
    """Through the engine, a 401 fails the run after one request."""
    url, state = server
    outcome, events = await run_node("http.graphql", {"url": f"{url}/private", "query": "{ whoami }",
                                                      "credential": "bad"}, BAD, http=loopback_client)
    assert outcome.status == "failed" and outcome.error["pointer"] == "/credential"
    assert "node.retrying" not in events.kinds("call") and state.requests == 1
