"""What GET /api/audit answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEventOut(BaseModel):
    id: str
    at: datetime
    action: str
    target_type: str
    target_id: str
    actor_id: str | None
    actor_email: str
    token_id: str | None
    details: dict[str, Any]
