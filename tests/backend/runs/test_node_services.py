"""close_node_services: what `maily serve`, `maily run` and `maily worker` call when they stop."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

from backend.runs.node_services import close_node_services, node_services


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


async def test_closing_the_node_services_releases_their_connections(settings, tenant_a):
    """After use, the AI gateway's engine, the mailer's engine and the HTTP client's pools hold nothing."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    Thread(target=server.serve_forever, daemon=True).start()
    settings = settings.model_copy(update={"http_allowed_hosts": "127.0.0.1"})
    services = node_services(settings)
    try:
        ai, mailer = services.nodes.ai, services.nodes.mailer
        assert await ai.store.reserve(tenant_a.id, 0)   # the gateway's hot path
        ai_pool, mail_pool = ai.db.engine.pool, mailer.store.db.db.engine.pool
        for engine in (ai.db.engine, mailer.store.db.db.engine):
            async with engine.connect():
                pass
        response = await services.http.request("GET", f"http://127.0.0.1:{server.server_port}/")
        assert response.status == 200 and services.http._clients
        assert ai_pool.checkedin() >= 1 and mail_pool.checkedin() >= 1
    finally:
        await close_node_services(services)
        server.shutdown()
    assert ai_pool.checkedin() == 0 and ai_pool.checkedout() == 0
    assert mail_pool.checkedin() == 0 and mail_pool.checkedout() == 0
    assert services.http._clients == {}


async def test_the_app_wires_every_node_service_from_the_database(settings):
    """node_services gives every NodeServices field its database-backed owner, none the in-memory stand-in."""
    from backend.ai.store import DbGateway
    from backend.certify.services import DbLedger
    from backend.credentials.resolver import DbCredentialStore
    from backend.email.store import DbMailStore, DbTemplates
    from nodes.email.mailer import MemoryMailStore

    services = node_services(settings)
    try:
        nodes = services.nodes
        assert isinstance(nodes.certifier, DbLedger) and isinstance(nodes.email_templates, DbTemplates)
        assert isinstance(nodes.mailer.store, DbMailStore) and not isinstance(nodes.mailer.store, MemoryMailStore)
        assert isinstance(nodes.ai, DbGateway) and isinstance(nodes.credentials, DbCredentialStore)
    finally:
        await close_node_services(services)
