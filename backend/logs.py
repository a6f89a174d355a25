"""Logging set-up: plain lines for a terminal, one JSON object per line with MAILY_LOG_JSON=true."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from backend.settings import Settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(), "level": record.levelname,
               "logger": record.name, "message": record.getMessage()}
        for key in ("tenant_id", "run_id", "node_id", "correlation_id"):
            if hasattr(record, key):
                doc[key] = getattr(record, key)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings.log_json
                         else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
