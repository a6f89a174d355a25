"""Fixtures of the AI node tests: one loopback server speaking the OpenAI and Anthropic APIs,
and a gateway whose tiers route to it."""

from __future__ import annotations

import json

import pytest

from nodes.ai.gateway import AIConfig, AIGateway
from nodes.ai.store import Credential, MemoryStore
from tests.nodes.ai.fake_providers import FakeProvider

SECRET_KEY = "sk-test-DO-NOT-LEAK-0000"


def smart_answer(body: dict) -> str:
    """Answers like a well-behaved model, by which node is asking (read from the system prompt)."""
    system = body.get("system") or body["messages"][0]["content"]
    if "classify" in system:
        return "Billing."
    if "extract entities" in system:
        return json.dumps({"email": ["ada@example.com"], "url": [], "phone": [], "date": [], "money": ["$20"],
                           "name": ["Ada Lovelace"]})
    if "send time" in system:
        return '{"hour": 7, "weekday": null}'
    return "AI wrote this. It is fine."


@pytest.fixture(scope="session")
def fake():
    server = FakeProvider.start()
    yield server
    server.stop()


@pytest.fixture
def store(fake):
    return MemoryStore(credentials={("*", "openai"): Credential(SECRET_KEY, fake.openai_url),
                                    ("*", "anthropic"): Credential(SECRET_KEY, fake.root)})


@pytest.fixture
async def gateway(store, fake):
    fake.script(answer=smart_answer)
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    config = AIConfig(tier_models={"premium": [{"provider": "openai", "model": "gpt-4o-mini"},
                                              {"provider": "anthropic", "model": "claude-3-5-haiku-latest"}],
                                   "enterprise": [{"provider": "anthropic", "model": "claude-sonnet-4-5"},
                                                  {"provider": "openai", "model": "gpt-4o"}]},
                      allowed_hosts=frozenset({"127.0.0.1"}), timeout_s=2, retries=2, breaker_threshold=3)
    gw = AIGateway(config, store, sleep=sleep)
    gw.slept = slept  # type: ignore[attr-defined]
    yield gw
    await gw.aclose()
