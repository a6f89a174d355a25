"""Bodies of /api/email: what the handlers read and what they answer (OpenAPI shows both)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    subject: str = Field(default="", max_length=2000)
    html: str = Field(default="", max_length=256_000)
    text: str = Field(default="", max_length=256_000)


class PreviewIn(BaseModel):
    subject: str = ""
    html: str = ""
    text: str = ""
    template_id: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    recipient: dict[str, Any] | None = None


class ProviderIn(BaseModel):
    kind: Literal["outbox", "smtp", "resend", "sendgrid", "mailgun"]
    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    domain: str = ""
    base_url: str = ""
    secret: str = Field(default="", description="SMTP password or API key; stored encrypted, never shown")
    webhook_signing_key: str | None = Field(
        default=None, max_length=4000,
        description="the provider's webhook signing secret (Resend whsec_..., Mailgun HTTP webhook signing key) or "
                    "public key (SendGrid verification key); stored encrypted, never shown. Absent: kept; "
                    "empty: removed (webhooks are then authenticated by the URL token only)")


class PreviewOut(BaseModel):
    """The rendered message, as email.compose would send it."""

    subject: str
    html: str
    text: str


class TemplateOut(BaseModel):
    id: str
    name: str
    subject: str
    html: str
    text: str
    created_at: datetime
    updated_at: datetime


class ProviderOut(BaseModel):
    """The tenant's provider without its secrets, and the webhook URL to give the provider."""

    kind: str
    settings: dict[str, Any]
    has_secret: bool
    webhook_url: str
    webhook_signing_provider: str | None
    webhook_verification: str


class OutboxSummaryOut(BaseModel):
    id: str
    run_id: str
    node_id: str
    message_id: str
    sender: str
    recipient: str
    subject: str
    created_at: datetime


class OutboxMessageOut(OutboxSummaryOut):
    raw: str


class SuppressionOut(BaseModel):
    email: str
    reason: str
    source: str
    created_at: datetime


class SuppressionIn(BaseModel):
    email: str = Field(default="", max_length=320, description="the address no mail goes to any more")


class SuppressionAddedOut(BaseModel):
    email: str
    reason: str


class WebhookOut(BaseModel):
    suppressed: int
    verified_by: Literal["signature", "url_token"]


class UncertainOut(BaseModel):
    run_id: str
    status: str
    messages: int
