"""The services nodes run with (Services of flows/engine.py), wired from the settings.

Apart from backend/runs/plugin.py (the app's run machinery) because the worker
(backend/runs/worker.py) and `maily run` build them too, without the app's plugin.
"""

from __future__ import annotations

from backend.ai.store import build_gateway
from backend.credentials.envelope import Keyring
from backend.credentials.resolver import DbCredentialStore
from backend.email.store import LazyDb, build_email_services
from backend.oauth.client import OAuthClient
from backend.settings import Settings
from flows.engine import Services
from nodes.code.sandbox import CodeLimits, CodeSandbox
from nodes.net import SafeHttpClient
from nodes.services import NodeServices, NoSubworkflows, Subworkflows


def node_services(settings: Settings, subworkflows: Subworkflows | None = None) -> Services:
    """The services every node run gets: the SSRF-guarded HTTP client, the AI gateway and the email and verify
    services, each with its own database engine. The app and every worker build one; close_node_services closes it."""
    http = SafeHttpClient(allowed_hosts=settings.http_allowed_host_set, timeout_s=settings.http_timeout_s,
                          max_response_bytes=settings.http_max_response_bytes)
    credentials = DbCredentialStore(LazyDb(settings.resolved_database_url), Keyring.from_settings(settings),
                                    OAuthClient(http))
    return Services(http=http, suspend_after_s=settings.suspend_after_s,
                    nodes=NodeServices(ai=build_gateway(settings), credentials=credentials,
                                        subworkflows=subworkflows or NoSubworkflows(),
                                       code=CodeSandbox(CodeLimits(settings.code_max_time_s, settings.code_max_memory_mb,
                                                                   max(1, settings.code_workers))),
                                        **build_email_services(settings, http)))


async def close_node_services(services_: Services) -> None:
    """Close what node_services opened: the AI gateway (awaits its cache writes), the mailer
    and the vault (their database engines), the code workers and the HTTP client. Every process that builds them calls this."""
    await services_.nodes.ai.aclose()
    await services_.nodes.mailer.aclose()
    await services_.nodes.credentials.aclose()
    await services_.nodes.code.aclose()
    await services_.http.aclose()
