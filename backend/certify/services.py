"""nodes.verify.certificates.LedgerStore on the database: keys (private halves encrypted),
certificates and the ledger. `verify_document(db, doc)` serves the API and `maily verify`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.certify.models import Certificate, LedgerEntry, SigningKey
from backend.crypto import decrypt, encrypt
from backend.db.models import utcnow
from backend.db.scoped import find_scoped, get_scoped
from nodes.verify.certificates import GENESIS, certify, entry_hash, new_private_key, verify
from datetime import datetime, timezone


def _entry(r: LedgerEntry) -> dict[str, Any]:
    return {k: getattr(r, k) for k in ("seq", "prev_hash", "cert_id", "cert_hash", "created_at", "entry_hash")}


class DbLedger:
    def __init__(self, db: Any, secret: str | None = None):
        self.db, self.secret = db, secret

    async def signing_key(self, tenant_id: str) -> tuple[str, str, str]:
        async with self.db.sessionmaker() as s:
            row = (await s.execute(sa.select(SigningKey).where(SigningKey.tenant_id == tenant_id,
                                                               SigningKey.retired_at.is_(None))
                                   .order_by(SigningKey.created_at.desc()).limit(1))).scalar_one_or_none()
        if row is None:
            return await self.rotate(tenant_id)
        return row.id, decrypt(row.private_key, secret=self.secret, context=tenant_id.encode()), row.public_key

    async def rotate(self, tenant_id: str) -> tuple[str, str, str]:
        """A new active key; the old ones are retired, never deleted."""
        pem, pub = new_private_key()
        async with self.db.sessionmaker() as s, s.begin():
            await s.execute(sa.update(SigningKey).where(SigningKey.tenant_id == tenant_id,
                                                        SigningKey.retired_at.is_(None)).values(retired_at=utcnow()))
            row = SigningKey(tenant_id=tenant_id, public_key=pub,
                             private_key=encrypt(pem, secret=self.secret, context=tenant_id.encode()))
            s.add(row)
            await s.flush()
            return row.id, pem, pub

    async def public_key(self, tenant_id: str, key_id: str) -> str | None:
        async with self.db.sessionmaker() as s:
            row = await find_scoped(s, SigningKey, tenant_id, key_id)
        return row.public_key if row is not None else None

    async def append(self, tenant_id: str, cert: dict[str, Any], c_hash: str) -> dict[str, Any]:
        for _ in range(20):  # another append took our seq: build on the new head
            try:
                async with self.db.sessionmaker() as s, s.begin():
                    head = (await s.execute(sa.select(LedgerEntry).where(LedgerEntry.tenant_id == tenant_id)
                                            .order_by(LedgerEntry.seq.desc()).limit(1))).scalar_one_or_none()
                    seq, prev = (head.seq + 1, head.entry_hash) if head else (1, GENESIS)
                    created = datetime.now(timezone.utc).isoformat(timespec="microseconds")
                    entry = {"seq": seq, "prev_hash": prev, "cert_id": cert["id"], "cert_hash": c_hash,
                             "created_at": created, "entry_hash": entry_hash(seq, prev, cert["id"], c_hash, created)}
                    s.add(LedgerEntry(tenant_id=tenant_id, **entry))
                    doc = {**cert, "ledger": {k: entry[k] for k in ("seq", "prev_hash", "entry_hash")}}
                    s.add(Certificate(id=cert["id"], tenant_id=tenant_id, document=doc,
                                      run_id=(cert.get("subject") or {}).get("run_id")))
                return entry
            except IntegrityError:
                continue
        raise RuntimeError("the ledger is too busy; try again")

    async def entries(self, tenant_id: str, upto_seq: int) -> list[dict[str, Any]]:
        async with self.db.sessionmaker() as s:
            rows = (await s.execute(sa.select(LedgerEntry).where(LedgerEntry.tenant_id == tenant_id,
                                                                 LedgerEntry.seq <= upto_seq)
                                    .order_by(LedgerEntry.seq))).scalars().all()
        return [_entry(r) for r in rows]

    async def certify(self, tenant_id: str, subject: dict[str, Any], content: Any) -> dict[str, Any]:
        return await certify(self, tenant_id, subject, content)


async def verify_document(db: Any, doc: Any) -> dict[str, Any]:
    return await verify(DbLedger(db), doc)


async def list_certificates(s: AsyncSession, tenant_id: str, limit: int) -> Sequence[Certificate]:
    return (await s.execute(sa.select(Certificate).where(Certificate.tenant_id == tenant_id)
                            .order_by(Certificate.created_at.desc()).limit(limit))).scalars().all()


async def get_certificate(s: AsyncSession, tenant_id: str, cert_id: str) -> Certificate:
    return await get_scoped(s, Certificate, tenant_id, cert_id, "certificate")


async def list_signing_keys(s: AsyncSession, tenant_id: str) -> Sequence[SigningKey]:
    return (await s.execute(sa.select(SigningKey).where(SigningKey.tenant_id == tenant_id)
                            .order_by(SigningKey.created_at))).scalars().all()


async def ledger_entries(s: AsyncSession, tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's whole chain, in order, as chain_ok() reads it."""
    rows = (await s.execute(sa.select(LedgerEntry).where(LedgerEntry.tenant_id == tenant_id)
                            .order_by(LedgerEntry.seq))).scalars().all()
    return [_entry(r) for r in rows]
