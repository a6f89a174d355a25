"""Request and response bodies of /api/members and /api/invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["owner", "editor", "viewer"]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MemberOut(BaseModel):
    user_id: str
    email: str
    name: str
    role: str
    last_active_at: datetime | None = None


class MembersOut(BaseModel):
    items: list[MemberOut]


class RoleIn(_In):
    role: Role


class InviteIn(_In):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    role: Role


class InvitationOut(BaseModel):
    id: str
    email: str
    role: str
    expires_at: datetime
    created_at: datetime
    invited_by: str | None = None


class InvitationsOut(BaseModel):
    items: list[InvitationOut]


class InvitationLinkOut(BaseModel):
    id: str
    email: str
    role: str
    expires_at: datetime
    url: str = Field(description="The invitation link, shown once; its last path segment is the token")
    mail_status: str = Field(default="", description="What the mail provider said: sent, retrying, failed...")


class InvitationInfoOut(BaseModel):
    workspace: str
    inviter: str
    email: str
    role: str
    expires_at: datetime
    has_account: bool


class AcceptIn(_In):
    name: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=1024)


class AcceptOut(BaseModel):
    user_id: str
    tenant_id: str
    role: str
    created: bool
