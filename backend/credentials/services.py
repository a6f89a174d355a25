"""Creating, reading, changing and deleting credentials; sealing and opening their secrets.

Every query scopes on the tenant: another workspace's id is "not found". Audit entries name the
credential and which fields changed, never a value.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.services import record
from backend.auth.schemas import Principal
from backend.credentials.envelope import Keyring, Sealed, VaultKeyError
from backend.credentials.models import Credential
from backend.credentials.schemas import CreateIn, PatchIn, TestOut
from backend.credentials.tester import run_test
from backend.credentials.types import TYPES, CredentialType
from backend.credentials.usage import used_by
from backend.db.models import new_id, utcnow
from backend.db.scoped import get_scoped
from backend.errors import Conflict, Unprocessable
from flows.pointer import pointer
from nodes.net import SafeHttpClient
from nodes.registry import NodeRegistry


def credential_type(name: str) -> CredentialType:
    t = TYPES.get(name)
    if t is None:
        raise Unprocessable(f"type: unknown credential type {name!r} (one of {', '.join(TYPES)})",
                            field="type", pointer="/type")
    return t


def validate_data(ctype: CredentialType, data: dict[str, Any]) -> dict[str, Any]:
    """The type's fields, checked; 422 naming the first wrong one as data.<field>."""
    try:
        return ctype.model.model_validate(data).model_dump()
    except ValidationError as exc:
        errors = [{"field": ".".join(["data", *(str(p) for p in e["loc"])]), "pointer": pointer("data", *e["loc"]),
                   "message": e["msg"]} for e in exc.errors(include_url=False, include_input=False, include_context=False)]
        raise Unprocessable(f"{errors[0]['field']}: {errors[0]['message']}", field=errors[0]["field"],
                            pointer=errors[0]["pointer"], errors=errors) from None


def _client_data(ctype: CredentialType, data: dict[str, Any]) -> dict[str, Any]:
    for name in data:
        if name in ctype.server_managed:
            raise Unprocessable(f"data.{name}: set by the server, not by a client", field=f"data.{name}",
                                pointer=pointer("data", name))
    return data


def sealed_of(row: Credential) -> Sealed:
    return Sealed(row.secret, row.wrapped_key, row.key_version)


def _seal_into(row: Credential, keyring: Keyring, values: dict[str, Any]) -> None:
    public, secret = TYPES[row.type].split(values)
    sealed = keyring.seal(row.tenant_id, row.id, secret)
    row.fields, row.secret, row.wrapped_key, row.key_version = public, sealed.secret, sealed.wrapped_key, sealed.key_version


def open_values(row: Credential, keyring: Keyring) -> dict[str, Any]:
    """Public and secret fields together, decrypted; 409 when no configured key opens them."""
    try:
        return {**row.fields, **keyring.open(row.tenant_id, row.id, sealed_of(row))}
    except VaultKeyError:
        raise Conflict(f"credential {row.name!r} cannot be opened with the configured secret key "
                       "(MAILY_SECRET_KEY changed without MAILY_SECRET_KEY_PREVIOUS?): enter its secret again") from None


async def get(s: AsyncSession, tenant_id: str, credential_id: str) -> Credential:
    return await get_scoped(s, Credential, tenant_id, credential_id, "credential")


async def list_all(s: AsyncSession, tenant_id: str) -> list[Credential]:
    return list(await s.scalars(sa.select(Credential).where(Credential.tenant_id == tenant_id)
                                .order_by(Credential.name, Credential.id)))


async def _flush_unique(s: AsyncSession, name: str) -> None:
    try:
        async with s.begin_nested():
            await s.flush()
    except IntegrityError:
        raise Conflict(f"a credential named {name!r} already exists in this workspace", field="name") from None


async def create(s: AsyncSession, p: Principal, keyring: Keyring, body: CreateIn) -> Credential:
    ctype = credential_type(body.type)
    values = validate_data(ctype, _client_data(ctype, body.data))
    row = Credential(id=new_id(), tenant_id=p.tenant_id, name=body.name, type=ctype.name,
                     created_by=p.user_id, created_at=utcnow(), updated_at=utcnow())
    _seal_into(row, keyring, values)
    s.add(row)
    await _flush_unique(s, body.name)
    await record(s, p, "credential.create", "credential", row.id, {"name": row.name, "type": row.type})
    return row


async def create_placeholder(s: AsyncSession, p: Principal, keyring: Keyring, name: str, type_: str) -> Credential:
    """An entry with no values yet (an import's credential to fill in): nothing secret is stored, the
    type's required fields are missing until a PATCH brings them all (it validates the whole), and a
    node using it fails with `missing_fields` naming them (backend/credentials/resolver.py)."""
    ctype = credential_type(type_)
    row = Credential(id=new_id(), tenant_id=p.tenant_id, name=name, type=ctype.name,
                     created_by=p.user_id, created_at=utcnow(), updated_at=utcnow())
    _seal_into(row, keyring, {})
    s.add(row)
    await _flush_unique(s, name)
    await record(s, p, "credential.create", "credential", row.id, {"name": row.name, "type": row.type,
                                                                  "placeholder": True})
    return row


def missing_fields(type_: str, values: dict[str, Any]) -> list[str]:
    """The required fields of the type that `values` lacks or leaves invalid (empty for a complete entry)."""
    try:
        TYPES[type_].model.model_validate(values)
    except ValidationError as exc:
        return sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
    return []


async def patch(s: AsyncSession, p: Principal, keyring: Keyring, credential_id: str, body: PatchIn) -> Credential:
    row = await get(s, p.tenant_id, credential_id)
    changed: list[str] = []
    if body.data:
        ctype = TYPES[row.type]
        try:
            current = open_values(row, keyring)
        except Conflict:   # unreadable under the current keys: the new data must bring every secret field again
            current = dict(row.fields)
        values = validate_data(ctype, {**current, **_client_data(ctype, body.data)})
        _seal_into(row, keyring, values)
        changed = sorted(body.data)
    if body.name is not None and body.name != row.name:
        row.name = body.name
        changed.append("name")
    if changed:
        row.updated_at = utcnow()
        await _flush_unique(s, row.name)
        await record(s, p, "credential.update", "credential", row.id, {"name": row.name, "changed": changed})
    return row


async def delete(s: AsyncSession, p: Principal, credential_id: str, registry: NodeRegistry) -> None:
    row = await get(s, p.tenant_id, credential_id)
    users = await used_by(s, p.tenant_id, row.id, registry)
    if users:
        names = ", ".join(u["workflow_name"] for u in users)
        raise Conflict(f"the credential is used by {len(users)} workflow(s): {names}; remove it from them first",
                       used_by=users)
    await s.delete(row)
    await record(s, p, "credential.delete", "credential", row.id, {"name": row.name, "type": row.type})


async def store_values(s: AsyncSession, row: Credential, keyring: Keyring, values: dict[str, Any]) -> None:
    """Re-seal a credential with server-made values (oauth2 tokens); the caller commits."""
    _seal_into(row, keyring, validate_data(TYPES[row.type], values))
    row.updated_at = utcnow()
    await s.flush()


async def test(s: AsyncSession, p: Principal, keyring: Keyring, credential_id: str, url: str | None,
               http: SafeHttpClient) -> TestOut:
    """Try the credential for real; an oauth2 token it obtained is stored (sealed)."""
    row = await get(s, p.tenant_id, credential_id)
    ctype = TYPES[row.type]
    values = open_values(row, keyring)
    try:
        outcome = await run_test(row.type, values, ctype.secret_names, url, http)
    finally:
        await http.aclose()
    if outcome.new_values:
        await store_values(s, row, keyring, {**values, **outcome.new_values, "connected": True})
    await record(s, p, "credential.test", "credential", row.id, {"name": row.name, "ok": outcome.ok})
    return TestOut(ok=outcome.ok, message=outcome.message)
