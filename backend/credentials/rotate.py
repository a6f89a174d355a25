"""`maily secrets rotate`: re-seal everything stored under a previous secret key with the current one.

The procedure (docs/credentials.md): set MAILY_SECRET_KEY to the new key and MAILY_SECRET_KEY_PREVIOUS
to the old one, restart (every process now seals with the new key and still opens with the old),
run this, then drop MAILY_SECRET_KEY_PREVIOUS. Nothing is offline meanwhile.

The vault's rows only get their data key re-wrapped (the sealed secret stays). Values of
backend/crypto.py (AI keys, email provider secrets, webhook secrets, certificate signing keys)
are decrypted and encrypted again. Every UPDATE is conditional on the value read, so a row the
app changed in between is left alone (it is already under the new key). A value that no
configured key opens is counted as unreadable and left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import sqlalchemy as sa

from backend.ai.models import AiCredential
from backend.certify.models import SigningKey
from backend.credentials.envelope import Keyring, Sealed, VaultKeyError
from backend.credentials.models import Credential
from backend.crypto import DecryptError, decrypt, encrypt, opens_with
from backend.email.models import EmailProviderConfig
from backend.triggers.models import Webhook

_BATCH = 200


def _tenant(row: Any) -> bytes:
    return row.tenant_id.encode()


# (model, primary key column, encrypted column, the context it was encrypted with)
CRYPTO_COLUMNS: list[tuple[Any, str, str, Callable[[Any], bytes]]] = [
    (AiCredential, "id", "secret", _tenant),
    (EmailProviderConfig, "tenant_id", "secret", _tenant),
    (EmailProviderConfig, "tenant_id", "webhook_secret", _tenant),
    (SigningKey, "id", "private_key", _tenant),
    (Webhook, "id", "secret_enc", lambda row: f"webhook:{row.tenant_id}:{row.id}".encode()),
]


@dataclass
class Report:
    rewrapped: int = 0          # vault rows whose data key is now under the current key
    reencrypted: int = 0        # backend/crypto.py values encrypted again
    current: int = 0            # already under the current key
    unreadable: list[str] = field(default_factory=list)   # "table.column:id" no configured key opens

    def summary(self) -> str:
        return (f"{self.rewrapped} credential(s) re-wrapped, {self.reencrypted} other secret(s) re-encrypted, "
                f"{self.current} already current, {len(self.unreadable)} unreadable")


async def _vault(db: Any, keyring: Keyring, report: Report) -> None:
    current = keyring.current_id
    report.current += await _count(db, sa.select(sa.func.count()).select_from(Credential)
                                   .where(Credential.key_version == current))
    last = ""
    while True:
        async with db.sessionmaker() as s:
            rows = (await s.execute(sa.select(Credential.id, Credential.tenant_id, Credential.secret,
                                              Credential.wrapped_key, Credential.key_version)
                                    .where(Credential.key_version != current, Credential.id > last)
                                    .order_by(Credential.id).limit(_BATCH))).all()
            if not rows:
                return
            for cid, tenant_id, secret, wrapped, version in rows:
                try:
                    new = keyring.rewrap(tenant_id, cid, Sealed(secret, wrapped, version))
                except VaultKeyError:
                    report.unreadable.append(f"credentials.wrapped_key:{cid}")
                    continue
                done = await s.execute(sa.update(Credential).where(Credential.id == cid,
                                                                   Credential.wrapped_key == wrapped)
                                       .values(wrapped_key=new.wrapped_key, key_version=new.key_version))
                report.rewrapped += done.rowcount
            await s.commit()
            last = rows[-1][0]


async def _count(db: Any, query: Any) -> int:
    async with db.sessionmaker() as s:
        return int(await s.scalar(query) or 0)


async def _column(db: Any, keyring: Keyring, model: Any, pk: str, column: str,
                  context: Callable[[Any], bytes], report: Report) -> None:
    key, col = getattr(model, pk), getattr(model, column)
    last = ""
    while True:
        async with db.sessionmaker() as s:
            rows = list(await s.scalars(sa.select(model).where(key > last, col != "").order_by(key).limit(_BATCH)))
            if not rows:
                return
            for row in rows:
                token, ctx, ident = getattr(row, column), context(row), getattr(row, pk)
                if opens_with(token, keyring.current, ctx):
                    report.current += 1
                    continue
                try:
                    plain = decrypt(token, secret=keyring.current, context=ctx, previous=keyring.previous)
                except DecryptError:
                    report.unreadable.append(f"{model.__tablename__}.{column}:{ident}")
                    continue
                done = await s.execute(sa.update(model).where(key == ident, col == token)
                                       .values({column: encrypt(plain, secret=keyring.current, context=ctx)}))
                report.reencrypted += done.rowcount
            await s.commit()
            last = getattr(rows[-1], pk)


async def rotate(db: Any, keyring: Keyring) -> Report:
    """Re-seal every stored secret under keyring.current; returns what it did."""
    report = Report()
    await _vault(db, keyring, report)
    for model, pk, column, context in CRYPTO_COLUMNS:
        await _column(db, keyring, model, pk, column, context, report)
    return report
