"""Request and response bodies of /api/auth. Extra fields in requests are ignored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class Principal:
    """Who is calling, in which tenant, with which role. Every tenant query scopes on tenant_id."""

    user_id: str
    tenant_id: str
    role: str                 # "owner" | "editor" | "viewer"
    email: str
    name: str
    token_id: str | None = None   # set when authenticated by an API token
    session_id: str | None = None  # the browser session's public id, when signed in by cookie
    is_admin: bool = False         # instance administrator (users.is_admin)
    read_only: bool = False       # a read-only API token: safe requests and read-only sockets only

    @property
    def can_edit(self) -> bool:
        return self.role in ("owner", "editor") and not self.read_only


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LoginIn(_In):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    tenant: str | None = Field(default=None, description="Tenant id or slug; default: the first membership")


class SignupIn(_In):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="", max_length=200)
    workspace: str = Field(min_length=1, max_length=200, description="Name of the new workspace")


class MePatchIn(_In):
    name: str = Field(min_length=1, max_length=200)


class PasswordChangeIn(_In):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordResetIn(_In):
    email: str = Field(min_length=3, max_length=320)


class PasswordResetConfirmIn(_In):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class SwitchIn(_In):
    workspace: str = Field(min_length=1, max_length=100, description="Workspace id or slug")


class AuthConfigOut(BaseModel):
    signup: str
    first_user: bool


class SessionOut(BaseModel):
    id: str
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    ip: str
    current: bool


class SessionsOut(BaseModel):
    items: list[SessionOut]


class TokenCreateIn(_In):
    name: str = Field(min_length=1, max_length=200)
    read_only: bool = Field(default=False, description="Only safe requests (GET/HEAD) and read-only sockets")


class TenantOut(BaseModel):
    id: str
    name: str
    slug: str
    tier: str
    role: str


class MeOut(BaseModel):
    user_id: str
    email: str
    name: str
    tenant_id: str
    role: str
    tenants: list[TenantOut]
    is_admin: bool = False


class TokenOut(BaseModel):
    id: str
    name: str
    prefix: str
    tenant_id: str
    read_only: bool = False
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself. Shown once: only its hash is stored.")
