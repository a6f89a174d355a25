import pytest

from nodes.email.mailer import Mailer, MemoryMailStore, RateLimits, UnsubscribeSigner
from nodes.net import SafeHttpClient
from tests.nodes.email.servers import ProviderApi, SmtpServer


@pytest.fixture
def smtp_server():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def provider_api():
    with ProviderApi() as api:
        yield api


@pytest.fixture
async def mailer_for():
    """mailer_for(provider_config) -> a Mailer on a memory store that may reach 127.0.0.1."""
    clients = []

    def make(provider: dict | None = None, **kw) -> Mailer:
        http = SafeHttpClient(allowed_hosts=frozenset({"127.0.0.1"}), timeout_s=5)
        clients.append(http)
        return Mailer(store=MemoryMailStore(provider=provider), signer=UnsubscribeSigner("k", "https://maily.example"),
                      limits=RateLimits("1000/second"), http=http, allowed_hosts=frozenset({"127.0.0.1"}), **kw)

    yield make
    for c in clients:
        await c.aclose()
