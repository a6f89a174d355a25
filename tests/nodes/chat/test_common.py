"""What the chat nodes share (nodes/chat/common.py): the address guard on webhook URLs, secret URLs
kept out of messages, and the engine retrying a chat node as the answers ask."""

from __future__ import annotations

import pytest

from flows.compile import compile_graph
from flows.engine import Emitter, Engine, Services
from nodes.chat import discord
from nodes.chat.common import Target
from nodes.credentials import MemoryCredentials
from nodes.net import SafeHttpClient
from nodes.registry import default_registry
from nodes.sdk import NodeConfigError
from nodes.services import NodeServices
from tests.nodes.chat.conftest import credentials
from tests.nodes.chat.servers import Answer
from tests.nodes.conftest import FakeClock


async def test_a_webhook_on_a_private_address_is_refused_at_credential(chat, chat_ctx):
    """A webhook URL resolving to a private address is refused at /credential, its secret path unnamed."""
    with pytest.raises(NodeConfigError) as err:
        await discord.execute(chat_ctx(), discord.Config(credential="private", content="hi"), {})
    assert err.value.pointer == "/credential" and "private" in err.value.message
    assert "MARKER" not in err.value.message


def test_hide_replaces_every_form_of_a_secret_url():
    """The raw URL, its normalised form and its bare path all read as "the X webhook"; public URLs stay named."""
    target = Target("https://Hooks.example.com/services/T0/B0/MARKER%7Esecret", "Slack")
    message = ("POST https://hooks.example.com/services/T0/B0/MARKER%7Esecret?wait=true timed out; "
               "path /services/T0/B0/MARKER%7Esecret")
    assert "MARKER" not in target.hide(message) and "the Slack webhook" in target.hide(message)
    public = Target("https://slack.com/api/chat.postMessage", "Slack", secret=False)
    assert public.hide("POST https://slack.com/api/chat.postMessage") == "POST https://slack.com/api/chat.postMessage"


class _Sink:
    def __init__(self) -> None:
        self.events: list = []

    def emit(self, event) -> None:
        self.events.append(event)


GRAPH = {
    "schema_version": 1, "name": "notify",
    "nodes": [
        {"id": "start", "type": "trigger.manual", "type_version": 1, "position": {"x": 0, "y": 0}, "config": {}},
        {"id": "post", "type": "chat.slack", "type_version": 1, "position": {"x": 0, "y": 0},
         "config": {"mode": "webhook", "credential": "{{ trigger.credential }}", "text": "Hello {{ trigger.name }}",
                    "retry_backoff_s": 0.5}},
    ],
    "edges": [{"id": "e1", "source": "start", "source_port": "output", "target": "post", "target_port": "input"}],
}


async def _run(base: str, credential: str, run_id: str):
    client = SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), timeout_s=5)
    clock, sink = FakeClock(), _Sink()
    services = Services(http=client, clock=clock,
                        nodes=NodeServices.in_memory(credentials=MemoryCredentials(credentials(base))))
    try:
        outcome = await Engine(services).run(compile_graph(GRAPH, default_registry()), run_id,
                                             {"name": "Ada", "credential": credential}, Emitter(run_id, [sink]))
    finally:
        await client.aclose()
    return outcome, [e.kind for e in sink.events if e.node_id == "post"], clock


async def test_the_engine_retries_a_temporary_failure_and_the_message_goes_out(chat):
    """A 503 from Slack is retried by the engine; the second attempt posts the rendered text."""
    app, base = chat
    app.script.append(Answer(503, "service unavailable"))
    outcome, kinds, _ = await _run(base, "slack-hook", "chat-retry")
    assert outcome.status == "succeeded", outcome.error
    assert outcome.output == {"post": {"ok": True}}
    assert kinds == ["node.started", "node.retrying", "node.succeeded"]
    assert [s.body["text"] for s in app.seen] == ["Hello Ada", "Hello Ada"]


async def test_the_engine_does_not_retry_a_permanent_failure(chat):
    """A deleted webhook (404 no_service) fails the run after one request, the URL in no error."""
    app, base = chat
    outcome, kinds, _ = await _run(base, "slack-gone", "chat-permanent")
    assert outcome.status == "failed" and "no_service" in outcome.error["message"]
    assert "MARKER" not in str(outcome.error)
    assert kinds == ["node.started", "node.failed"] and len(app.seen) == 1


async def test_a_wait_beyond_the_cap_is_honoured_by_the_engines_retry(chat):
    """A 429 asking for 45 s (over max_wait_s) ends the attempt; the engine waits the 45 s, then it succeeds."""
    app, base = chat
    app.script.append(Answer(429, "", {"Retry-After": "45"}))
    outcome, kinds, clock = await _run(base, "slack-hook", "chat-engine-wait")
    assert outcome.status == "succeeded", outcome.error
    assert kinds == ["node.started", "node.retrying", "node.succeeded"]
    assert sum(clock.slept) == pytest.approx(45) and len(app.seen) == 2
