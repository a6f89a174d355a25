"""Logging set-up: plain lines for a terminal, one JSON object per line with MAILY_LOG_JSON=true."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from backend.settings import Settings
from flows.observe import log_ids

# Ids a record carries when the code that logs runs under them (flows/observe.py scopes).
CONTEXT_KEYS = ("tenant_id", "user_id", "request_id", "workflow_id", "run_id", "node_id", "node_type")


class ContextIdsFilter(logging.Filter):
    """Copies the current tenant, request, run and node ids onto every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in log_ids().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(), "level": record.levelname,
               "logger": record.name, "message": record.getMessage()}
        for key in (*CONTEXT_KEYS, "correlation_id"):
            if hasattr(record, key):
                doc[key] = getattr(record, key)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(ContextIdsFilter())
    handler.setFormatter(JsonFormatter() if settings.log_json
                         else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # httpx logs every request's full URL at INFO, query string included: a `query` credential
    # (nodes/http/request.py) would reach the app log. Our own code logs what a request needs.
    # Likewise httpx2 (the AI SDKs' and the MCP SDK's); the MCP SDK logs each stateless request at INFO.
    for noisy in ("httpx", "httpcore", "httpx2", "httpcore2", "mcp"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
