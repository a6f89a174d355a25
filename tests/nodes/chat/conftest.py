"""The chat tests' loopback server (servers.py under uvicorn), credentials for it, and a context factory."""

from __future__ import annotations

import pytest

from nodes.credentials import MemoryCredentials, ResolvedCredential
from nodes.net import SafeHttpClient
from tests.live_server import serving
from tests.nodes.chat.servers import DISCORD_HOOK, SLACK_HOOK, SLACK_TOKEN, TEAMS_CONNECTOR, TEAMS_FLOW, ChatApi
from tests.nodes.conftest import FakeClock


@pytest.fixture(scope="module")
async def chat_server():
    app = ChatApi()
    async with serving(app) as where:
        yield app, f"http://{where}"


@pytest.fixture
async def chat(chat_server):
    """(the app, its base URL), its script and records emptied; a hung answer is released at the end."""
    app, base = chat_server
    app.reset()
    yield app, base
    app.release.set()


def credentials(base: str) -> dict[str, ResolvedCredential]:
    def hook(cid: str, path: str) -> ResolvedCredential:   # a path on the chat server, or a whole URL
        return ResolvedCredential(cid, "webhook_url", {"url": path if path.startswith("http") else base + path},
                                  ("url",))

    return {
        "slack-bot": ResolvedCredential("slack-bot", "bearer", {"token": SLACK_TOKEN}, ("token",)),
        "slack-bad": ResolvedCredential("slack-bad", "bearer", {"token": "xoxb-revoked-0000"}, ("token",)),
        "slack-hook": hook("slack-hook", SLACK_HOOK),
        "slack-gone": hook("slack-gone", "/slack/services/T0/B0/MARKERdeleted"),
        "discord": hook("discord", DISCORD_HOOK),
        "discord-bad": hook("discord-bad", "/discord/webhooks/123456/MARKERwrongtoken"),
        "discord-gone": hook("discord-gone", "/discord/webhooks/999/MARKERgonetoken"),
        "private": hook("private", "http://10.11.12.13/hooks/MARKERprivate"),
        "teams": hook("teams", TEAMS_FLOW),
        "teams-old": hook("teams-old", TEAMS_CONNECTOR),
        "teams-bad": hook("teams-bad", "/teams/workflows/MARKERbadsig"),
    }


@pytest.fixture
async def chat_ctx(chat, make_ctx):
    """Builds a context reaching the chat server, with its credentials and a fake clock (ctx.clock.slept)."""
    client = SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), timeout_s=5)

    def make(timeout_s: float = 5, **kwargs):
        client.timeout_s = timeout_s
        vault = MemoryCredentials(credentials(chat[1]))
        return make_ctx(http=client, clock=FakeClock(), services={"credentials": vault}, **kwargs)

    yield make
    await client.aclose()
