"""Data: the AI provider keys (ai_credentials) and the email provider (email_provider_configs)
move into the credential vault as ai_provider / email_provider credentials.

Each secret is decrypted with backend/crypto.py (MAILY_SECRET_KEY, then MAILY_SECRET_KEY_PREVIOUS)
and sealed in the vault under a fresh data key; its old row is deleted in the same transaction.
A row no configured key opens is left where it is, with a warning: nothing is lost, and
`maily secrets rotate` still covers it. Downgrade moves the vault's rows back.

Revision ID: 0017_secrets_into_vault
Revises: 0016_credentials
Create Date: 2026-12-05 20:15:00
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone
from typing import Any, Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from backend.credentials.envelope import Keyring, Sealed
from backend.crypto import DecryptError, decrypt, encrypt
from backend.settings import Settings

revision: str = '0017_secrets_into_vault'
down_revision: Union[str, None] = '0016_credentials'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

log = logging.getLogger("alembic.runtime.migration")
JSON = sa.JSON().with_variant(JSONB(), 'postgresql')
TS = sa.DateTime(timezone=True)
SETTINGS = ("host", "port", "security", "username", "domain", "base_url")

ai = sa.table('ai_credentials', sa.column('id', sa.String), sa.column('tenant_id', sa.String),
              sa.column('provider', sa.String), sa.column('secret', sa.Text), sa.column('key_hint', sa.String),
              sa.column('base_url', sa.String), sa.column('created_at', TS), sa.column('updated_at', TS))
email = sa.table('email_provider_configs', sa.column('tenant_id', sa.String), sa.column('kind', sa.String),
                 sa.column('settings', JSON), sa.column('secret', sa.Text), sa.column('webhook_secret', sa.Text),
                 sa.column('webhook_provider', sa.String), sa.column('updated_at', TS))
creds = sa.table('credentials', sa.column('id', sa.String), sa.column('tenant_id', sa.String),
                 sa.column('name', sa.String), sa.column('type', sa.String), sa.column('fields', JSON),
                 sa.column('secret', sa.Text), sa.column('wrapped_key', sa.Text), sa.column('key_version', sa.String),
                 sa.column('created_by', sa.String), sa.column('created_at', TS), sa.column('updated_at', TS))

SECRET_FIELDS = {"ai_provider": ("api_key",), "email_provider": ("secret", "webhook_secret")}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _open(token: str, tenant_id: str, keys: Keyring) -> str:
    if not token:
        return ""
    return decrypt(token, secret=keys.current, context=tenant_id.encode(), previous=keys.previous)


def _free_name(bind: Any, tenant_id: str, name: str) -> str:
    taken = set(bind.execute(sa.select(creds.c.name).where(creds.c.tenant_id == tenant_id)).scalars())
    n, candidate = 1, name
    while candidate in taken:
        n += 1
        candidate = f"{name} ({n})"
    return candidate


def _seal(bind: Any, keys: Keyring, tenant_id: str, type_: str, name: str, values: dict[str, Any],
          created_at: Any, updated_at: Any) -> None:
    cid = uuid.uuid4().hex
    secret = {k: values.pop(k) for k in SECRET_FIELDS[type_]}
    sealed = keys.seal(tenant_id, cid, secret)
    bind.execute(creds.insert().values(
        id=cid, tenant_id=tenant_id, name=_free_name(bind, tenant_id, name), type=type_, fields=values,
        secret=sealed.secret, wrapped_key=sealed.wrapped_key, key_version=sealed.key_version, created_by=None,
        created_at=created_at or _now(), updated_at=updated_at or _now()))


def upgrade() -> None:
    bind = op.get_bind()
    ai_rows = bind.execute(sa.select(ai)).all()
    email_rows = bind.execute(sa.select(email)).all()
    if not ai_rows and not email_rows:
        return
    keys = Keyring.from_settings(Settings())
    for r in ai_rows:
        try:
            api_key = _open(r.secret, r.tenant_id, keys)
        except DecryptError:
            log.warning("ai_credentials %s (%s): no configured secret key opens it; left in place", r.id, r.provider)
            continue
        _seal(bind, keys, r.tenant_id, "ai_provider", f"AI provider: {r.provider}",
              {"provider": r.provider, "base_url": r.base_url or "", "api_key": api_key}, r.created_at, r.updated_at)
        bind.execute(ai.delete().where(ai.c.id == r.id))
    for r in email_rows:
        try:
            secret, webhook = _open(r.secret, r.tenant_id, keys), _open(r.webhook_secret, r.tenant_id, keys)
        except DecryptError:
            log.warning("email_provider_configs %s: no configured secret key opens it; left in place", r.tenant_id)
            continue
        settings = {k: v for k, v in (r.settings or {}).items() if k in SETTINGS}
        values = {"kind": r.kind, "host": "", "port": 587, "security": "starttls", "username": "", "domain": "",
                  "base_url": "", **settings, "webhook_provider": r.webhook_provider or "",
                  "secret": secret, "webhook_secret": webhook}
        _seal(bind, keys, r.tenant_id, "email_provider", "Email provider", values, r.updated_at, r.updated_at)
        bind.execute(email.delete().where(email.c.tenant_id == r.tenant_id))


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(creds).where(creds.c.type.in_(("ai_provider", "email_provider")))
                        .order_by(creds.c.created_at)).all()
    if not rows:
        return
    keys = Keyring.from_settings(Settings())
    done: set[tuple[str, str]] = set()
    for r in rows:
        values = {**r.fields, **keys.open(r.tenant_id, r.id, Sealed(r.secret, r.wrapped_key, r.key_version))}
        ctx = r.tenant_id.encode()
        key = (r.tenant_id, values.get("provider", "") if r.type == "ai_provider" else "email")
        if key in done:   # the old tables hold one per provider / tenant: the oldest wins
            continue
        done.add(key)
        if r.type == "ai_provider":
            api_key = values["api_key"]
            bind.execute(ai.insert().values(
                id=uuid.uuid4().hex, tenant_id=r.tenant_id, provider=values["provider"],
                secret=encrypt(api_key, secret=keys.current, context=ctx),
                key_hint=("…" + api_key[-4:]) if len(api_key) >= 12 else "", base_url=values["base_url"] or None,
                created_at=r.created_at, updated_at=r.updated_at))
        else:
            bind.execute(email.insert().values(
                tenant_id=r.tenant_id, kind=values["kind"], settings={k: values[k] for k in SETTINGS},
                secret=encrypt(values["secret"], secret=keys.current, context=ctx) if values["secret"] else "",
                webhook_secret=(encrypt(values["webhook_secret"], secret=keys.current, context=ctx)
                                if values["webhook_secret"] else ""),
                webhook_provider=values["webhook_provider"], updated_at=r.updated_at))
        bind.execute(creds.delete().where(creds.c.id == r.id))
