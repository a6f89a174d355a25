"""/api/certificates: the tenant's certificates and keys, and the public verify endpoint."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth.guards import requires_owner
from backend.auth.schemas import Principal
from backend.certify.models import Certificate, LedgerEntry, SigningKey
from backend.certify.services import DbLedger, verify_document
from backend.db.models import looks_like_id
from backend.errors import NotFound, read_json
from backend.keys import secret_key
from nodes.verify.certificates import chain_ok


class CertificateController(Controller):
    path = "/api/certificates"
    tags = ["certificates"]

    @post("/verify", operation_id="verifyCertificate", status_code=200)
    async def verify(self, request: Request) -> dict[str, Any]:
        """Public, no sign-in: checks content hash, signature (key on file), ledger entry and chain."""
        return await verify_document(request.app.state.db, await read_json(request))

    @get("/", operation_id="listCertificates")
    async def list_certificates(self, principal: Principal, db_session: AsyncSession,
                                limit: int = Parameter(default=50, ge=1, le=500)) -> list[dict[str, Any]]:
        rows = (await db_session.execute(sa.select(Certificate).where(Certificate.tenant_id == principal.tenant_id)
                                         .order_by(Certificate.created_at.desc()).limit(limit))).scalars()
        return [{"id": r.id, "run_id": r.run_id, "created_at": r.created_at,
                 "seq": (r.document.get("ledger") or {}).get("seq")} for r in rows]

    @get("/{cert_id:str}", operation_id="getCertificate")
    async def get_certificate(self, cert_id: str, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        row = await db_session.get(Certificate, cert_id) if looks_like_id(cert_id) else None
        if row is None or row.tenant_id != principal.tenant_id:
            raise NotFound(f"no certificate {cert_id}")
        return row.document

    @get("/keys", operation_id="listSigningKeys")
    async def keys(self, principal: Principal, db_session: AsyncSession) -> list[dict[str, Any]]:
        rows = (await db_session.execute(sa.select(SigningKey).where(SigningKey.tenant_id == principal.tenant_id)
                                         .order_by(SigningKey.created_at))).scalars()
        return [{"id": r.id, "public_key": r.public_key, "created_at": r.created_at, "retired_at": r.retired_at}
                for r in rows]

    @post("/keys/rotate", operation_id="rotateSigningKey", guards=[requires_owner], status_code=201)
    async def rotate(self, request: Request, principal: Principal) -> dict[str, Any]:
        """A new signing key; earlier keys are retired but kept, so their certificates still verify."""
        key_id, _, pub = await DbLedger(request.app.state.db, secret_key(request.app.state.settings)).rotate(principal.tenant_id)
        return {"id": key_id, "public_key": pub}

    @get("/ledger/check", operation_id="checkLedger")
    async def check_ledger(self, principal: Principal, db_session: AsyncSession) -> dict[str, Any]:
        """Walks the tenant's whole chain: every link and every entry hash."""
        rows = (await db_session.execute(sa.select(LedgerEntry).where(LedgerEntry.tenant_id == principal.tenant_id)
                                         .order_by(LedgerEntry.seq))).scalars().all()
        entries = [{k: getattr(r, k) for k in ("seq", "prev_hash", "cert_id", "cert_hash", "created_at", "entry_hash")}
                   for r in rows]
        return {"entries": len(entries), "intact": chain_ok(entries)}
