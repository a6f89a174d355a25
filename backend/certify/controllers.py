"""/api/certificates: the tenant's certificates and keys, and the public verify endpoint."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_owner
from backend.auth.schemas import Principal
from backend.certify import services
from backend.certify.schemas import CertificateOut, CertificateSummaryOut, LedgerCheckOut, RotatedKeyOut, \
    SigningKeyOut, VerifyOut
from backend.certify.services import DbLedger, verify_document
from backend.keys import secret_key
from nodes.verify.certificates import chain_ok


class CertificateController(Controller):
    path = "/api/certificates"
    tags = ["certificates"]

    @post("/verify", operation_id="verifyCertificate", status_code=200)
    async def verify(self, request: Request, data: Any) -> VerifyOut:
        """Public, no sign-in: checks content hash, signature (key on file), ledger entry and chain."""
        return VerifyOut(**await verify_document(request.app.state.db, data))

    @get("/", operation_id="listCertificates")
    async def list_certificates(self, principal: Principal, db_session: AsyncSession,
                                limit: int = Parameter(default=50, ge=1, le=500)) -> list[CertificateSummaryOut]:
        rows = await services.list_certificates(db_session, principal.tenant_id, limit)
        return [CertificateSummaryOut(id=r.id, run_id=r.run_id, created_at=r.created_at,
                                      seq=(r.document.get("ledger") or {}).get("seq")) for r in rows]

    @get("/{cert_id:str}", operation_id="getCertificate")
    async def get_certificate(self, cert_id: str, principal: Principal, db_session: AsyncSession) -> CertificateOut:
        return CertificateOut(**(await services.get_certificate(db_session, principal.tenant_id, cert_id)).document)

    @get("/keys", operation_id="listSigningKeys")
    async def keys(self, principal: Principal, db_session: AsyncSession) -> list[SigningKeyOut]:
        rows = await services.list_signing_keys(db_session, principal.tenant_id)
        return [SigningKeyOut.model_validate(r, from_attributes=True) for r in rows]

    @post("/keys/rotate", operation_id="rotateSigningKey", guards=[requires_owner], status_code=201)
    async def rotate(self, request: Request, principal: Principal) -> RotatedKeyOut:
        """A new signing key; earlier keys are retired but kept, so their certificates still verify."""
        key_id, _, pub = await DbLedger(request.app.state.db, secret_key(request.app.state.settings)).rotate(principal.tenant_id)
        return RotatedKeyOut(id=key_id, public_key=pub)

    @get("/ledger/check", operation_id="checkLedger")
    async def check_ledger(self, principal: Principal, db_session: AsyncSession) -> LedgerCheckOut:
        """Walks the tenant's whole chain: every link and every entry hash."""
        entries = await services.ledger_entries(db_session, principal.tenant_id)
        return LedgerCheckOut(entries=len(entries), intact=chain_ok(entries))
