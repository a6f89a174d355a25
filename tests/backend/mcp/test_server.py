"""The workspace's MCP server at /mcp, spoken to with the official MCP client over streamable HTTP."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from backend.auth import services as auth
from backend.mcp.tools import tool_name
from tests.backend.mcp.conftest import exposed_workflow, mcp_session
from tests.flows.fakes import edge, graph, node

ORDER_SCHEMA = {"type": "object", "properties": {"customer": {"type": "string"}, "total": {"type": "number"}},
                "required": ["customer"]}


def greeter(trigger: str = "trigger.manual", **config) -> dict:
    said = "{{ trigger.customer }}" if trigger == "trigger.manual" else "{{ trigger.body.customer }}"
    return graph([node("start", trigger, **config), node("greet", "data.set", values={"hello": said})],
                 [edge("start", "greet")])


def failing() -> dict:
    return graph([node("start", "trigger.manual"), node("boom", "data.set", values={"x": "{{ 1 / 0 }}"})],
                 [edge("start", "boom")])


class TestTools:
    async def test_lists_only_exposed_published_workflows_of_the_tokens_workspace(self, server, client, tenant_a,
                                                                                 tenant_b):
        """tools/list names the token's workspace's exposed, published workflows, with the trigger's schema."""
        h = tenant_a.editor.headers
        shown = await exposed_workflow(client, h, "Order lookup!", greeter(input_schema=ORDER_SCHEMA))
        await exposed_workflow(client, h, "Not exposed", greeter(), expose=False)
        await exposed_workflow(client, h, "Draft only", greeter(), publish=False)
        await exposed_workflow(client, tenant_b.editor.headers, "Other workspace", greeter())
        async with mcp_session(server, tenant_a.viewer.token) as session:
            listed = (await session.list_tools()).tools
        assert [t.name for t in listed] == [f"order_lookup_{shown[:8]}"]
        assert listed[0].input_schema["properties"] == ORDER_SCHEMA["properties"]
        assert listed[0].input_schema["required"] == ["customer"]

    async def test_the_other_workspace_sees_its_own_tools(self, server, client, tenant_a, tenant_b):
        """Another workspace's token lists its own workflows and none of this one's."""
        mine = await exposed_workflow(client, tenant_a.editor.headers, "Mine", greeter())
        theirs = await exposed_workflow(client, tenant_b.editor.headers, "Theirs", greeter())
        async with mcp_session(server, tenant_b.editor.token) as session:
            names = [t.name for t in (await session.list_tools()).tools]
        assert names == [tool_name("Theirs", theirs)] and tool_name("Mine", mine) not in names

    async def test_unexposing_removes_the_tool(self, server, client, tenant_a):
        """PUT /mcp {exposed: false} takes the workflow off the list."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Gone soon", greeter())
        r = await client.put(f"/api/workflows/{wf}/mcp", json={"exposed": False}, headers=tenant_a.editor.headers)
        assert r.status_code == 200 and r.json()["exposed"] is False
        async with mcp_session(server, tenant_a.editor.token) as session:
            assert (await session.list_tools()).tools == []


class TestCalls:
    async def test_call_runs_the_workflow_and_returns_its_output(self, server, client, tenant_a):
        """tools/call starts a run of the published version and answers the run's output."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Greeter", greeter(input_schema=ORDER_SCHEMA))
        async with mcp_session(server, tenant_a.editor.token) as session:
            result = await session.call_tool(tool_name("Greeter", wf), {"customer": "Ada"})
        assert result.is_error is False
        assert result.structured_content == {"greet": {"hello": "Ada"}}
        r = await client.get(f"/api/runs?workflow_id={wf}", headers=tenant_a.editor.headers)
        assert [(run["trigger"], run["status"]) for run in r.json()] == [("mcp", "succeeded")]

    async def test_webhook_workflow_takes_the_arguments_as_its_body(self, server, client, tenant_a):
        """A webhook-triggered tool's schema is its body_schema and the arguments arrive as the body."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Hook",
                                    greeter("trigger.webhook", body_schema=ORDER_SCHEMA))
        async with mcp_session(server, tenant_a.editor.token) as session:
            tool = (await session.list_tools()).tools[0]
            result = await session.call_tool(tool.name, {"customer": "Grace"})
        assert tool.input_schema["required"] == ["customer"]
        assert result.structured_content == {"greet": {"hello": "Grace"}}

    async def test_failed_run_is_a_tool_error_with_the_message(self, server, client, tenant_a):
        """A run that fails answers an MCP tool error naming the node and the error."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Breaks", failing())
        async with mcp_session(server, tenant_a.editor.token) as session:
            result = await session.call_tool(tool_name("Breaks", wf), {})
        assert result.is_error is True
        assert "the workflow failed at node 'boom'" in result.content[0].text
        assert "division by zero" in result.content[0].text

    async def test_arguments_outside_the_schema_start_no_run(self, server, client, tenant_a):
        """Arguments the trigger's schema refuses are a tool error naming the place, and no run starts."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Strict", greeter(input_schema=ORDER_SCHEMA))
        async with mcp_session(server, tenant_a.editor.token) as session:
            result = await session.call_tool(tool_name("Strict", wf), {"customer": 5})
        assert result.is_error is True and "/customer" in result.content[0].text
        r = await client.get(f"/api/runs?workflow_id={wf}", headers=tenant_a.editor.headers)
        assert r.json() == []

    async def test_viewer_cannot_run_a_tool(self, server, client, tenant_a):
        """A viewer's token lists the tools but a call is a tool error naming the role needed."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Editors only", greeter())
        async with mcp_session(server, tenant_a.viewer.token) as session:
            result = await session.call_tool(tool_name("Editors only", wf), {"customer": "x"})
        assert result.is_error is True and "needs editor or owner" in result.content[0].text

    async def test_another_workspaces_tool_is_unknown(self, server, client, tenant_a, tenant_b):
        """Calling another workspace's tool by its name answers Unknown tool and runs nothing."""
        wf = await exposed_workflow(client, tenant_b.editor.headers, "Theirs", greeter())
        async with mcp_session(server, tenant_a.editor.token) as session:
            result = await session.call_tool(tool_name("Theirs", wf), {"customer": "x"})
        assert result.is_error is True and result.content[0].text == f"Unknown tool: {tool_name('Theirs', wf)}"
        r = await client.get(f"/api/runs?workflow_id={wf}", headers=tenant_b.editor.headers)
        assert r.json() == []


    async def test_a_run_that_stops_to_wait_is_a_tool_error_naming_it(self, server, client, tenant_a):
        """A run waiting on an approval answers a tool error naming the run, which goes on waiting."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Asks", graph(
            [node("start", "trigger.manual"), node("ask", "approval.wait")], [edge("start", "ask")]))
        async with mcp_session(server, tenant_a.editor.token) as session:
            result = await session.call_tool(tool_name("Asks", wf), {})
        runs = (await client.get(f"/api/runs?workflow_id={wf}", headers=tenant_a.editor.headers)).json()
        assert [r["status"] for r in runs] == ["waiting"]
        assert result.is_error is True
        assert result.content[0].text.startswith(f"the run {runs[0]['id']} is waiting")


class TestAuthentication:
    @pytest.mark.parametrize("authorization", [None, "Bearer mf_not-a-token", "Basic dXNlcjpwdw=="])
    async def test_without_a_valid_api_token_answers_401(self, server, client, authorization):
        """No token, an unknown one or another scheme: 401 with WWW-Authenticate: Bearer."""
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
        if authorization:
            headers["authorization"] = authorization
        r = await client.post("/mcp", headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.headers["content-type"] == "application/problem+json"

    async def test_a_read_only_token_is_refused(self, server, client, tenant_a, db):
        """A read-only API token gets 403: a tool call would start a run."""
        async with db.sessionmaker() as s, s.begin():
            _, token = await auth.create_api_token(s, tenant_a.id, tenant_a.owner.user_id, "ro", read_only=True)
        r = await client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                              headers={"authorization": f"Bearer {token}", "accept": "application/json, text/event-stream"})
        assert r.status_code == 403 and "read-only" in r.json()["detail"]

    async def test_the_official_client_fails_to_initialize_with_a_bad_token(self, server):
        """The MCP client's initialize fails against a token the server does not know."""
        http = httpx2.AsyncClient(headers={"Authorization": "Bearer mf_unknown"}, timeout=30)
        with pytest.RaisesGroup(pytest.RaisesExc(MCPError, match="error response"), flatten_subgroups=True):
            async with http, streamable_http_client(f"http://{server}/mcp", http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()


class TestExposureRoute:
    async def test_viewer_may_not_change_exposure(self, client, tenant_a):
        """PUT /api/workflows/{id}/mcp is for editors and owners."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Wf", greeter(), expose=False)
        r = await client.put(f"/api/workflows/{wf}/mcp", json={"exposed": True}, headers=tenant_a.viewer.headers)
        assert r.status_code == 403

    async def test_answer_names_the_tool_and_the_workflow_shows_the_setting(self, client, tenant_a):
        """The answer carries the tool name, and GET /api/workflows/{id} shows mcp_exposed."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Weekly Report", greeter(), expose=False)
        r = await client.put(f"/api/workflows/{wf}/mcp", json={"exposed": True}, headers=tenant_a.owner.headers)
        assert r.json() == {"workflow_id": wf, "exposed": True, "tool_name": f"weekly_report_{wf[:8]}",
                            "published": True}
        assert (await client.get(f"/api/workflows/{wf}", headers=tenant_a.owner.headers)).json()["mcp_exposed"] is True

    async def test_another_workspaces_workflow_is_404(self, client, tenant_a, tenant_b):
        """Another workspace's workflow id is not found."""
        wf = await exposed_workflow(client, tenant_b.editor.headers, "Theirs", greeter(), expose=False)
        r = await client.put(f"/api/workflows/{wf}/mcp", json={"exposed": True}, headers=tenant_a.owner.headers)
        assert r.status_code == 404

    async def test_body_without_exposed_is_422_naming_it(self, client, tenant_a):
        """A body without `exposed` is refused naming the field."""
        wf = await exposed_workflow(client, tenant_a.editor.headers, "Wf", greeter(), expose=False)
        r = await client.put(f"/api/workflows/{wf}/mcp", json={}, headers=tenant_a.owner.headers)
        assert r.status_code == 422 and r.json()["field"] == "exposed"


class TestOwnServerFromANode:
    async def test_ai_mcp_tool_calls_another_workspaces_tool_through_mcp(self, server, client, tenant_a, tenant_b,
                                                                        monkeypatch):
        """A workflow's ai.mcp_tool node, with the other workspace's API token in the vault, runs its tool here."""
        monkeypatch.setenv("MAILY_MCP_ALLOWED_URLS", f"http://{server}/mcp")
        monkeypatch.setenv("MAILY_HTTP_ALLOWED_HOSTS", "127.0.0.1")
        wf = await exposed_workflow(client, tenant_b.editor.headers, "Greeter", greeter(input_schema=ORDER_SCHEMA))
        r = await client.post("/api/credentials", headers=tenant_a.editor.headers,
                              json={"name": "b's mcp", "type": "bearer", "data": {"token": tenant_b.editor.token}})
        assert r.status_code == 201, r.text
        caller = graph([node("start", "trigger.manual"),
                        node("call", "ai.mcp_tool", server_url=f"http://{server}/mcp", tool=tool_name("Greeter", wf),
                             arguments={"customer": "{{ trigger.who }}"}, credential=r.json()["id"])],
                       [edge("start", "call")])
        r = await client.post("/api/runs", json={"graph": caller, "input": {"who": "Ada"}},
                              headers=tenant_a.editor.headers)
        assert r.status_code == 202, r.text
        run = await ended(client, tenant_a.editor.headers, r.json()["id"])
        assert run["status"] == "succeeded", run
        call = next(n for n in run["nodes"] if n["node_id"] == "call")
        assert call["output"]["output"]["structured"] == {"greet": {"hello": "Ada"}}
        r = await client.get(f"/api/runs?workflow_id={wf}", headers=tenant_b.editor.headers)
        assert [run["trigger"] for run in r.json()] == ["mcp"]


async def ended(client, headers, run_id: str, timeout: float = 30) -> dict:
    """The run once it has ended."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        run = (await client.get(f"/api/runs/{run_id}", headers=headers)).json()
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end within {timeout} s")
