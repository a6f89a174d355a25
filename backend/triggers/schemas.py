"""Bodies of the trigger endpoints. Requests ignore unknown fields (tenant_id included)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from flows.cron import CronError, check_cron, check_timezone

Source = Literal["published", "draft"]
Respond = Literal["immediately", "when_done", "node"]
EndStatus = Literal["succeeded", "failed", "cancelled"]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- webhooks ---------------------------------------------------------------------------

class WebhookCreateIn(_In):
    """A webhook URL for the workflow. The secret is returned once, by this call (and by rotate)."""

    source: Source = Field(default="published", description="Run the published version (default) or the draft")
    allow_token: bool = Field(default=False, description="Also accept the secret as ?token= (for senders that cannot sign)")
    respond: Respond = Field(default="immediately", description="immediately: 202 with the run id; when_done: the "
                             "run's output (or its error as problem+json); node: what a webhook.respond node sets")
    description: str = Field(default="", max_length=2000)


class WebhookUpdateIn(_In):
    source: Source | None = None
    allow_token: bool | None = None
    respond: Respond | None = None
    description: str | None = Field(default=None, max_length=2000)


class WebhookOut(BaseModel):
    id: str
    workflow_id: str
    url: str = Field(description="Where senders deliver: POST (or the node's methods) here")
    source: Source
    allow_token: bool
    respond: Respond = "immediately"
    description: str
    secret_hint: str = Field(description="The secret's first characters, to recognise it")
    created_at: datetime
    rotated_at: datetime | None = None
    last_used_at: datetime | None = None


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The signing secret. Shown only here and when rotated.")


class WebhookDeliveryOut(BaseModel):
    """An accepted delivery, as the run it started records it (refused deliveries start no run)."""

    run_id: str
    method: str
    status: str = Field(description="The run's status: queued, running, succeeded, failed...")
    received_at: datetime
    finished_at: datetime | None
    error: str | None = Field(description="The run's error message, when it failed")


class WebhookTestIn(_In):
    """A sample delivery, signed with the webhook's secret by the server and sent to its URL."""

    method: Literal["POST", "PUT", "PATCH", "DELETE", "GET"] = "POST"
    body: Any = Field(default_factory=lambda: {"test": True}, description="The JSON body to send")


class WebhookTestOut(BaseModel):
    status: int = Field(description="The HTTP status the webhook endpoint answered")
    body: Any = Field(description="Its answer: the accepted run, or the problem document")
    run_id: str | None


class WebhookAcceptedOut(BaseModel):
    run_id: str
    status: str
    workflow_id: str
    workflow_version: int | None


# --- schedules --------------------------------------------------------------------------

def _cron(v: str) -> str:
    try:
        return check_cron(v)
    except CronError as exc:
        raise ValueError(str(exc)) from None


def _tz(v: str) -> str:
    try:
        return check_timezone(v)
    except CronError as exc:
        raise ValueError(str(exc)) from None


class ScheduleCreateIn(_In):
    """Run the workflow on a cron schedule, in a time zone."""

    cron: str = Field(max_length=200, description="Five fields (minute hour day-of-month month day-of-week) or @daily...")
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone, e.g. Europe/Paris")
    enabled: bool = True
    input: dict[str, Any] = Field(default_factory=dict, description="The run input (the trigger's output)")
    source: Source = "published"

    _check_cron = field_validator("cron")(classmethod(lambda cls, v: _cron(v)))
    _check_tz = field_validator("timezone")(classmethod(lambda cls, v: _tz(v)))


class ScheduleUpdateIn(_In):
    cron: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    enabled: bool | None = None
    input: dict[str, Any] | None = None
    source: Source | None = None

    _check_cron = field_validator("cron")(classmethod(lambda cls, v: None if v is None else _cron(v)))
    _check_tz = field_validator("timezone")(classmethod(lambda cls, v: None if v is None else _tz(v)))


class ScheduleOut(BaseModel):
    id: str
    workflow_id: str
    cron: str
    timezone: str
    enabled: bool
    input: dict[str, Any]
    source: Source
    next_run_at: datetime | None
    next_runs: list[datetime] = Field(description="The next fire times (UTC); empty when disabled")
    last_run_at: datetime | None
    last_run_id: str | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class SchedulePreviewOut(BaseModel):
    cron: str = Field(description="The expression as it will be stored")
    timezone: str
    next_runs: list[datetime] = Field(description="The next fire times (UTC)")


# --- chains -----------------------------------------------------------------------------

class ChainCreateIn(_In):
    """When a run of this workflow ends with one of `on`, start a run of the target."""

    target_workflow_id: str = Field(min_length=1, max_length=64)
    on: list[EndStatus] = Field(default_factory=lambda: ["succeeded"], min_length=1)
    source: Source = Field(default="published", description="Run the target's published version or its draft")


class ChainOut(BaseModel):
    id: str
    source_workflow_id: str
    target_workflow_id: str
    on: list[str]
    source: Source
    created_at: datetime
