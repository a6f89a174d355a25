"""Each node type runs inside a saved workflow (tests/nodes/workflows/*.json) and gives the saved output.

A saved file holds `graph`, `input` and `expect` (the run's output: the main path's last nodes), and
`credentials` when its nodes use the vault (id -> {type, fields, secret}: the vault the run sees;
"{base}" in a field: the loopback test server's URL). The http.request and chat workflows call
that server, the db.* ones the machine's PostgreSQL, MariaDB and Redis, allow-listed as an operator
would; http.graphql a GraphQL server, ai.mcp_tool an MCP server and storage.s3 moto's S3, each started
for its workflow."""

from __future__ import annotations

import json
import os
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import boto3
import pytest

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from nodes.credentials import MemoryCredentials, ResolvedCredential
from nodes.registry import default_registry
from nodes.services import NodeServices
from tests.nodes.ai.mcp_server import mcp_server
from tests.nodes.http.graphql_server import graphql_server
from tests.nodes.storage.s3_server import moto_s3, signed_requests

SAVED = sorted((Path(__file__).parent / "workflows").glob("*.json"))


def test_every_built_in_node_type_has_a_saved_workflow():
    used = {n["type"] for path in SAVED for n in json.loads(path.read_text())["graph"]["nodes"]}
    assert {t.spec.type for t in default_registry().all()} <= used


@asynccontextmanager
async def _servers(stem: str, http_server: str) -> AsyncIterator[tuple[dict[str, Any], dict[str, ResolvedCredential]]]:
    """(what the workflow's input gains, the credentials it needs) for the servers a saved workflow calls."""
    if stem == "http_request":
        yield {"base": http_server}, {}
    elif stem == "http_graphql":
        async with graphql_server() as (url, _):
            yield {"base": url}, {}
    elif stem == "ai_mcp_tool":
        async with mcp_server() as url:
            os.environ["MAILY_MCP_ALLOWED_URLS"] = f"{url}/"    # the test's monkeypatch restores it
            yield {"base": url}, {}
    elif stem == "storage_s3":
        # signed: moto's authentication switch is process-wide, and other tests turn it on
        with moto_s3() as url, signed_requests(url) as (key_id, secret):
            bucket = f"saved-{uuid.uuid4().hex[:8]}"   # moto's buckets are process-wide too
            boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key_id,
                         aws_secret_access_key=secret).create_bucket(Bucket=bucket)
            cred = ResolvedCredential("s3", "s3", {"endpoint_url": url, "region": "us-east-1", "access_key_id": key_id,
                                                   "secret_access_key": secret, "force_path_style": True})
            yield {"bucket": bucket}, {"s3": cred}
    else:
        yield {}, {}


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
async def test_the_saved_workflow_runs_and_gives_the_saved_output(path, http_server, loopback_client, monkeypatch):
    monkeypatch.setenv("MAILY_HTTP_ALLOWED_HOSTS", "127.0.0.1")   # storage.s3 builds its client from the settings
    monkeypatch.setenv("MAILY_MCP_ALLOWED_URLS", "")                # ai.mcp_tool's allow-list, set by _servers
    saved = json.loads(path.read_text())
    vault = {cid: ResolvedCredential(cid, c["type"], {k: v.replace("{base}", http_server) if isinstance(v, str) else v
                                                  for k, v in c["fields"].items()}, tuple(c.get("secret", ())))
             for cid, c in saved.get("credentials", {}).items()}
    plan = compile_graph(saved["graph"], default_registry())
    async with _servers(path.stem, http_server) as (extra, started):
        services = NodeServices.in_memory(credentials=MemoryCredentials({**vault, **started}))
        outcome = await Engine(Services(http=loopback_client, nodes=services)).run(
            plan, f"saved-{path.stem}", {**saved["input"], **extra} if extra else saved["input"], Emitter(f"saved-{path.stem}", []))
    # approval.wait suspends its run: the saved file says `"status": "waiting"`
    assert outcome.status == saved.get("status", "succeeded"), outcome.error
    assert outcome.output == saved["expect"]
