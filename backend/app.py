"""The Litestar application: `create_app()` wires settings, database, node catalogue,
auth, error format, the API controllers and the editor's static files.

The runs part is plugged in by its owner through `extra_route_handlers` and the
`on_startup` / `on_shutdown` hooks, so this module does not import it.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from pathlib import Path
from typing import Any, Callable, Sequence

from litestar import Litestar, MediaType, Response, get
from litestar.config.cors import CORSConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import File

from backend.admin.controllers import AdminController
from backend.ai.controllers import AIController
from backend.approvals.controllers import ApprovalLinkController
from backend.auth.controllers import AuthController
from backend.auth.csrf import csrf_middleware
from backend.auth.deps import dependencies
from backend.auth.revocation import start_revocation_bus, stop_revocation_bus
from backend.bodies import BodyPlugin, BodyRequest
from backend.catalogue.controllers import CatalogueController, HealthController
from backend.collab.controllers import collab_socket, start_collab, stop_collab
from backend.collab.send import expose_server_send
from backend.db.embedded import stop_embedded
from backend.db.session import Database
from backend.errors import NotFound, exception_handlers
from backend.headers import with_security_headers
from backend.runs.controllers import RunController, stream_run_events
from backend.retention.controllers import RetentionController
from backend.retention.runtime import start_retention, stop_retention
from backend.runs.plugin import start_runs, stop_runs
from backend.audit.controllers import AuditController
from backend.certify.controllers import CertificateController
from backend.credentials.controllers import ROUTES as CREDENTIAL_ROUTES
from backend.oauth.controllers import ROUTES as OAUTH_ROUTES
from backend.panel.controllers import PanelController
from backend.email.controllers import EmailController, UncertainSendsController, UnsubscribeController
from backend.metrics import metrics_endpoint
from backend.members.controllers import ROUTES as MEMBER_ROUTES
from backend.mcp.controllers import McpExposureController
from backend.mcp.server import mcp_endpoint, mcp_lifespan
from backend.feeds.controllers import ROUTES as FEED_ROUTES
from backend.tracing import configure_tracing, observe_middleware, shutdown_tracing
from backend.settings import Settings, get_settings
from backend.triggers.controllers import TriggerController, deliver_webhook
from backend.triggers.runtime import start_triggers, stop_triggers
from backend.workflows.controllers import WorkflowController
from backend.workflows.n8n_controller import N8nImportController
from backend.workspaces.controllers import WorkspaceController
from backend.templates.controllers import ROUTES as TEMPLATE_ROUTES
from nodes.registry import default_registry

log = logging.getLogger("maily.app")

EDITOR_DIST = Path(__file__).resolve().parents[1] / "editor" / "dist"

_NO_EDITOR_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Maily Flow</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto">
<h1>Maily Flow</h1>
<p>The API is running. The browser editor is not built yet:</p>
<pre>cd editor &amp;&amp; npm install &amp;&amp; npm run build</pre>
<p>then reload this page. Meanwhile, the API is documented at <a href="/schema">/schema</a>
(<a href="/schema/openapi.json">openapi.json</a>).</p>
</body></html>"""


def _editor_handlers(dist: Path) -> list[Any]:
    """Serve the built editor at / with SPA fallback to index.html, or a how-to page."""
    root = dist.resolve()

    @get(["/", "/{path:path}"], include_in_schema=False, sync_to_thread=False)
    def editor(path: str = "") -> Any:
        # /api/... and /schema/... never fall back to the SPA: an unknown API route is a 404.
        rel = path.lstrip("/")
        if rel.split("/", 1)[0] in ("api", "schema"):
            raise NotFound(f"nothing at /{rel}")
        if not (root / "index.html").is_file():
            return Response(_NO_EDITOR_PAGE, media_type=MediaType.HTML)
        candidate = (root / path.lstrip("/")).resolve()
        if rel and candidate.is_file() and candidate.is_relative_to(root):
            media_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            return File(candidate, filename=candidate.name, content_disposition_type="inline", media_type=media_type)
        if "." in rel.rsplit("/", 1)[-1]:
            # A missing asset (app.3f2a.js) is a 404; only app routes fall back to the SPA.
            raise NotFound(f"nothing at /{rel}")
        return File(root / "index.html", filename="index.html", content_disposition_type="inline",
                    media_type=MediaType.HTML)

    return [editor]


def _email_routes() -> list[Any]:
    return [EmailController, UnsubscribeController, UncertainSendsController, CertificateController]


def create_app(
    settings: Settings | None = None,
    *,
    extra_route_handlers: Sequence[Any] = (),
    on_startup: Sequence[Callable[[Litestar], Any]] = (),
    on_shutdown: Sequence[Callable[[Litestar], Any]] = (),
    editor_dist: Path | None = None,
) -> Litestar:
    settings = settings or get_settings()
    configure_tracing()   # only when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/operations.md)

    async def open_database(app: Litestar) -> None:
        # the embedded PostgreSQL starts (or is joined) here when MAILY_DATABASE_URL is unset
        url = await asyncio.to_thread(lambda: settings.resolved_database_url)
        app.state.db = Database(url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
                                pool_timeout=settings.db_pool_timeout_s)

    async def close_database(app: Litestar) -> None:
        db = getattr(app.state, "db", None)
        if db is not None:
            await db.dispose()
        if not settings.database_url:   # the embedded PostgreSQL stops with its last user
            await asyncio.to_thread(stop_embedded, settings.data_dir)

    origins = sorted(settings.allowed_origin_set)
    app = Litestar(
        route_handlers=[AuthController, WorkflowController, N8nImportController, ApprovalLinkController, AIController, CatalogueController, HealthController,
                        RunController, stream_run_events, collab_socket, TriggerController, deliver_webhook, AuditController, metrics_endpoint,
                        WorkspaceController, AdminController, PanelController, RetentionController,
                        McpExposureController, mcp_endpoint,
                        *_email_routes(), *TEMPLATE_ROUTES, *MEMBER_ROUTES, *CREDENTIAL_ROUTES, *OAUTH_ROUTES, *FEED_ROUTES, *extra_route_handlers, *_editor_handlers(editor_dist or EDITOR_DIST)],
        dependencies=dependencies(),
        exception_handlers=exception_handlers(),
        middleware=[observe_middleware, csrf_middleware(settings.allowed_origin_set)],
        cors_config=CORSConfig(allow_origins=origins, allow_credentials=True) if origins else None,
        request_max_body_size=settings.max_body_bytes,
        # A handler's `data: Model` is its body, documented and parsed in one (backend/bodies.py).
        request_class=BodyRequest,
        plugins=[BodyPlugin()],
        # The runs owner's startup hooks run after the database is open; shutdown in reverse.
        on_startup=[open_database, start_collab, start_runs, start_triggers, start_revocation_bus, start_retention,
                    *on_startup],
        # The MCP server's session manager (a task group) runs around everything else.
        lifespan=[mcp_lifespan],
        # Rooms write everything out before the database closes.
        on_shutdown=[*on_shutdown, stop_retention, stop_revocation_bus, stop_triggers, stop_runs, stop_collab, close_database, lambda _app: shutdown_tracing()],
        openapi_config=OpenAPIConfig(
            title="Maily Flow API", version="1", path="/schema", use_handler_docstrings=True,
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            components=Components(security_schemes={
                "bearer": SecurityScheme(type="http", scheme="bearer", description="API token (mf_...)"),
                "session": SecurityScheme(type="apiKey", name="maily_session", security_scheme_in="cookie"),
            }),
            security=[{"bearer": []}, {"session": []}],
        ),
        # Logging is configured once by the process (the CLI, from MAILY_LOG_*), not by the app.
        logging_config=None,
        debug=False,
    )
    app.state.settings = settings
    app.state.registry = default_registry()
    # Outside everything Litestar wraps around its router (the exception handler, CORS), so co-editing's data
    # messages can skip those wrappers (backend/collab/send.py).
    app.asgi_handler = expose_server_send(app.asgi_handler)
    # CSP, anti-framing, nosniff, referrer policy on every HTTP answer (WebSockets pass through untouched).
    app.asgi_handler = with_security_headers(app.asgi_handler)
    return app
