"""Bodies of /api/certificates (the document format itself: nodes/verify/certificates.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class VerifyOut(BaseModel):
    """Every check runs, so the answer names everything that is wrong."""

    valid: bool
    checks: dict[str, bool] = Field(description="content, key, signature, ledger_entry, ledger_match, ledger_chain "
                                                "(only format when the document is not a certificate)")
    problems: list[str]


class CertificateSummaryOut(BaseModel):
    id: str
    run_id: str | None
    created_at: datetime
    seq: int | None = Field(description="the certificate's position in the tenant's ledger")


class LedgerRefOut(BaseModel):
    seq: int
    prev_hash: str
    entry_hash: str


class CertificateOut(BaseModel):
    """A signed certificate as issued (maily-certificate/1); POST it to /verify to check it."""

    model_config = ConfigDict(extra="allow")   # a later format's fields are passed through as stored

    format: str
    id: str
    tenant_id: str
    issued_at: str = Field(description="ISO 8601, as signed")
    subject: dict[str, Any]
    content: Any
    content_sha256: str
    key_id: str
    public_key: str
    signature: str
    ledger: LedgerRefOut


class SigningKeyOut(BaseModel):
    id: str
    public_key: str
    created_at: datetime
    retired_at: datetime | None


class RotatedKeyOut(BaseModel):
    id: str
    public_key: str


class LedgerCheckOut(BaseModel):
    entries: int
    intact: bool
