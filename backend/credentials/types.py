"""The credential types of the vault: one pydantic model per type, secret fields marked.

A field is secret when its json_schema_extra says so (`_secret()`): secret fields are sealed in
`credentials.secret` and never returned; the others are stored as plain JSON in `fields`.
Server-managed fields (oauth2's tokens and expiry) are written by the server, never by a client.
GET /api/credentials/types serves `describe()` so the editor builds its forms from these models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_HOST = Field(min_length=1, max_length=255)
_PORT = Field(ge=1, le=65535)


def _secret(required: bool = True, **kw: Any) -> Any:
    extra = {"x-secret": True}
    if required:
        return Field(min_length=1, max_length=8192, json_schema_extra=extra, **kw)
    return Field(default="", max_length=8192, json_schema_extra=extra, **kw)


class _Type(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Bearer(_Type):
    """Bearer token"""
    token: str = _secret()


class Basic(_Type):
    """Username and password (HTTP Basic)"""
    username: str = Field(min_length=1, max_length=500)
    password: str = _secret()


class Header(_Type):
    """API key in a header"""
    name: str = Field(min_length=1, max_length=200, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
    value: str = _secret()


class Query(_Type):
    """API key in the query string"""
    name: str = Field(min_length=1, max_length=200)
    value: str = _secret()


class OAuth2(_Type):
    """OAuth2"""
    grant_type: Literal["authorization_code", "client_credentials"]
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: str = _secret(required=False)
    authorize_url: str = Field(default="", max_length=2000)
    token_url: str = Field(min_length=1, max_length=2000)
    scope: str = Field(default="", max_length=2000)
    audience: str = Field(default="", max_length=500)
    # server-managed
    access_token: str = _secret(required=False)
    refresh_token: str = _secret(required=False)
    expires_at: float | None = None
    connected: bool = False
    pending_connect: str = _secret(required=False)   # a started connect flow (backend/oauth/connect.py)


class Smtp(_Type):
    """SMTP server"""
    host: str = _HOST
    port: int = _PORT
    username: str = Field(default="", max_length=500)
    password: str = _secret(required=False)
    security: Literal["starttls", "tls", "none"] = "starttls"


class Postgres(_Type):
    """PostgreSQL"""
    host: str = _HOST
    port: int = Field(default=5432, ge=1, le=65535)
    database: str = Field(min_length=1, max_length=200)
    username: str = Field(min_length=1, max_length=200)
    password: str = _secret(required=False)
    ssl: bool = False


class Mysql(Postgres):
    """MySQL / MariaDB"""
    port: int = Field(default=3306, ge=1, le=65535)


class Redis(_Type):
    """Redis"""
    host: str = _HOST
    port: int = Field(default=6379, ge=1, le=65535)
    username: str = Field(default="", max_length=200)   # ACL user; empty: the default user
    password: str = _secret(required=False)
    database: int = Field(default=0, ge=0, le=1_000_000)
    tls: bool = False


class AiProvider(_Type):
    """AI provider key"""
    provider: Literal["openai", "anthropic", "compatible"]
    base_url: str = Field(default="", max_length=2000)
    api_key: str = _secret(required=False)   # a local compatible endpoint may need none


class EmailProvider(_Type):
    """Email provider"""
    kind: Literal["outbox", "smtp", "resend", "sendgrid", "mailgun"]
    host: str = Field(default="", max_length=255)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = Field(default="", max_length=500)
    domain: str = Field(default="", max_length=255)
    base_url: str = Field(default="", max_length=2000)
    webhook_provider: str = Field(default="", max_length=20)
    secret: str = _secret(required=False)
    webhook_secret: str = _secret(required=False)


class WebhookUrl(_Type):
    """Webhook URL (Slack, Discord, Teams)"""
    url: str = _secret(pattern=r"^https?://[^\s]+$")   # the URL is the secret: whoever holds it can post


class S3(_Type):
    """S3 or S3-compatible storage"""
    endpoint_url: str = Field(default="", max_length=2000)   # empty: AWS's regional endpoint
    region: str = Field(default="us-east-1", min_length=1, max_length=50)
    access_key_id: str = Field(min_length=1, max_length=500)
    secret_access_key: str = _secret()
    force_path_style: bool = False   # bucket in the path, not the host name (MinIO, Ceph, moto); an IP endpoint always is


class Imap(_Type):
    """IMAP mailbox"""
    host: str = _HOST
    port: int = Field(default=993, ge=1, le=65535)
    username: str = Field(min_length=1, max_length=500)
    password: str = _secret()
    security: Literal["tls", "starttls", "none"] = "tls"


@dataclass(frozen=True)
class CredentialType:
    name: str
    model: type[_Type]
    server_managed: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return (self.model.__doc__ or self.name).strip()

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(n for n, f in self.model.model_fields.items()
                     if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("x-secret"))

    def split(self, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(public fields, secret fields) of validated data."""
        secret = set(self.secret_names)
        return ({k: v for k, v in data.items() if k not in secret}, {k: v for k, v in data.items() if k in secret})


TYPES: dict[str, CredentialType] = {t.name: t for t in (
    CredentialType("bearer", Bearer), CredentialType("basic", Basic), CredentialType("header", Header),
    CredentialType("query", Query),
    CredentialType("oauth2", OAuth2, server_managed=("access_token", "refresh_token", "expires_at", "connected",
                                                          "pending_connect")),
    CredentialType("smtp", Smtp), CredentialType("postgres", Postgres), CredentialType("mysql", Mysql),
    CredentialType("redis", Redis),
    CredentialType("ai_provider", AiProvider), CredentialType("email_provider", EmailProvider),
    CredentialType("webhook_url", WebhookUrl),
    CredentialType("s3", S3),
    CredentialType("imap", Imap),
)}


def _kind(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "enum"
    if "const" in schema:
        return "enum"
    t = schema.get("type")
    if t is None and "anyOf" in schema:   # Optional[x]
        t = next((s.get("type") for s in schema["anyOf"] if s.get("type") != "null"), "string")
    return {"integer": "integer", "number": "number", "boolean": "boolean"}.get(t or "string", "string")


def describe() -> list[dict[str, Any]]:
    """Every type with its client-settable fields, for the editor's forms."""
    out = []
    for t in TYPES.values():
        props = t.model.model_json_schema()["properties"]
        required = set(t.model.model_json_schema().get("required", []))
        fields = []
        for name, schema in props.items():
            if name in t.server_managed:
                continue
            field: dict[str, Any] = {"name": name, "secret": name in t.secret_names,
                                     "required": name in required, "kind": _kind(schema)}
            if "enum" in schema:
                field["options"] = schema["enum"]
            if "default" in schema and name not in t.secret_names:
                field["default"] = schema["default"]
            fields.append(field)
        out.append({"type": t.name, "title": t.title, "fields": fields})
    return out
