"""Migration 0017 on a copy of a database that has AI keys and an email provider in their old
tables (PostgreSQL): everything arrives in the vault with the same values, the APIs
answer as before, a row no key opens stays where it was, and the original database is untouched."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from alembic import command
import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.engine import make_url

from backend.ai.models import AiCredential
from backend.app import create_app
from backend.credentials.envelope import Keyring
from backend.credentials.models import Credential
from backend.credentials.services import open_values
from backend.crypto import decrypt, encrypt
from backend.db.migrate import alembic_config, upgrade_async
from backend.db.models import new_id
from backend.db.session import Database
from backend.email.models import EmailProviderConfig
from backend.settings import Settings
from tests.backend.conftest import BACKENDS, _asyncpg_dsn, drop_pg_database, fresh_database, make_tenant

KEY = "the-instance-secret-key"
WHSEC = "whsec_c2lnbmluZy1rZXk="


async def _copy(url: str, tmp_path: Path) -> str:
    """A copy of the database at url (CREATE DATABASE ... TEMPLATE)."""
    name = make_url(url).database + "_copy"
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(url).database}"')
    finally:
        await conn.close()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
async def at_0016(request, tmp_path, monkeypatch):
    """A database migrated to 0016 (before the move), and its copy made later; both dropped after."""
    monkeypatch.setenv("MAILY_SECRET_KEY", KEY)   # what the migration decrypts and seals with
    monkeypatch.setenv("MAILY_DATA_DIR", str(tmp_path / "var"))
    url = await fresh_database(request.param, tmp_path)
    await upgrade_async(url, "0016_credentials")
    made: list[str] = [url]
    yield url, made
    for u in made:
        await drop_pg_database(u)


async def _old_rows(db: Database) -> tuple:
    """Two tenants in the pre-vault layout; tenant B's AI row was sealed with a key long gone."""
    a, b = await make_tenant(db, "mig"), await make_tenant(db, "mig")
    ctx = a.id.encode()
    async with db.sessionmaker() as s, s.begin():
        s.add(AiCredential(id=new_id(), tenant_id=a.id, provider="openai", key_hint="…1234",
                           secret=encrypt("sk-openai-0001234", secret=KEY, context=ctx)))
        s.add(AiCredential(id=new_id(), tenant_id=a.id, provider="compatible", key_hint="",
                           base_url="http://ollama.internal:11434/v1", secret=encrypt("", secret=KEY, context=ctx)))
        s.add(EmailProviderConfig(tenant_id=a.id, kind="smtp", webhook_provider="",
                                  settings={"host": "smtp.example.com", "port": 2525, "security": "tls",
                                            "username": "mailer", "domain": "", "base_url": ""},
                                  secret=encrypt("smtp-password", secret=KEY, context=ctx), webhook_secret=""))
        s.add(EmailProviderConfig(tenant_id=b.id, kind="resend", settings={"base_url": "https://api.resend.com"},
                                  webhook_provider="resend", secret=encrypt("re_key", secret=KEY, context=b.id.encode()),
                                  webhook_secret=encrypt(WHSEC, secret=KEY, context=b.id.encode())))
        s.add(AiCredential(id=new_id(), tenant_id=b.id, provider="anthropic", key_hint="",
                           secret=encrypt("lost", secret="a-key-nobody-has", context=b.id.encode())))
        # A person's own credential already has the name the move would give: the move picks another.
        keys = Keyring(KEY)
        mine = Credential(id=new_id(), tenant_id=a.id, name="AI provider: openai", type="bearer", fields={})
        sealed = keys.seal(a.id, mine.id, {"token": "my-own-token"})
        mine.secret, mine.wrapped_key, mine.key_version = sealed.secret, sealed.wrapped_key, sealed.key_version
        s.add(mine)
    return a, b, mine.id


async def _vault(db: Database, tenant_id: str) -> dict[str, dict]:
    async with db.sessionmaker() as s:
        rows = list(await s.scalars(sa.select(Credential).where(Credential.tenant_id == tenant_id)))
    return {f"{r.type}:{r.name}": open_values(r, Keyring(KEY)) for r in rows}


async def test_the_move_into_the_vault_loses_nothing(at_0016, tmp_path):
    """Every readable AI key and email provider is in the vault with its values; the old rows are gone."""
    url, made = at_0016
    db = Database(url)
    a, b, mine = await _old_rows(db)
    await db.dispose()
    copy = await _copy(url, tmp_path)
    made.append(copy)
    await upgrade_async(copy)

    migrated = Database(copy)
    try:
        assert await _vault(migrated, a.id) == {
            "bearer:AI provider: openai": {"token": "my-own-token"},
            "ai_provider:AI provider: openai (2)": {"provider": "openai", "base_url": "", "api_key": "sk-openai-0001234"},
            "ai_provider:AI provider: compatible": {"provider": "compatible", "base_url": "http://ollama.internal:11434/v1",
                                                    "api_key": ""},
            "email_provider:Email provider": {"kind": "smtp", "host": "smtp.example.com", "port": 2525,
                                              "security": "tls", "username": "mailer", "domain": "", "base_url": "",
                                              "webhook_provider": "", "secret": "smtp-password", "webhook_secret": ""},
        }
        assert (await _vault(migrated, b.id))["email_provider:Email provider"] == {
            "kind": "resend", "host": "", "port": 587, "security": "starttls", "username": "", "domain": "",
            "base_url": "https://api.resend.com", "webhook_provider": "resend", "secret": "re_key", "webhook_secret": WHSEC}
        async with migrated.sessionmaker() as s:
            left_ai = [(r.tenant_id, r.provider) for r in await s.scalars(sa.select(AiCredential))]
            left_email = list(await s.scalars(sa.select(EmailProviderConfig.tenant_id)))
        assert left_ai == [(b.id, "anthropic")] and left_email == []   # only the unreadable row stays
    finally:
        await migrated.dispose()

    original = Database(url)
    try:
        async with original.sessionmaker() as s:
            assert await s.scalar(sa.select(sa.func.count()).select_from(AiCredential)) == 3
            assert await s.scalar(sa.select(sa.func.count()).select_from(EmailProviderConfig)) == 2
    finally:
        await original.dispose()

    app = create_app(Settings(database_url=copy, data_dir=tmp_path / "app", secret_key=KEY, prefect_at_start=False))
    async with AsyncTestClient(app=app) as client:
        ai = (await client.get("/api/ai/credentials", headers=a.owner.headers)).json()
        assert [(c["provider"], c["key_hint"], c["base_url"]) for c in ai] == [
            ("compatible", "", "http://ollama.internal:11434/v1"), ("openai", "…1234", None)]
        mail = (await client.get("/api/email/provider", headers=b.owner.headers)).json()
        assert (mail["kind"], mail["has_secret"], mail["webhook_signing_provider"]) == ("resend", True, "resend")
        smtp = (await client.get("/api/email/provider", headers=a.owner.headers)).json()
        assert smtp["settings"]["host"] == "smtp.example.com" and smtp["has_secret"] is True


async def test_downgrade_moves_the_secrets_back(at_0016, tmp_path):
    """0017 down again: the old tables hold the same secrets (encrypted with backend/crypto.py), the vault
    keeps only the person's own credential."""
    url, _ = at_0016
    db = Database(url)
    a, b, mine = await _old_rows(db)
    await db.dispose()
    await upgrade_async(url)
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0016_credentials")
    db = Database(url)
    try:
        async with db.sessionmaker() as s:
            ai = {r.provider: (decrypt(r.secret, secret=KEY, context=r.tenant_id.encode(), previous=()), r.base_url)
                  for r in await s.scalars(sa.select(AiCredential).where(AiCredential.tenant_id == a.id))}
            mail = await s.get(EmailProviderConfig, b.id)
            left = list(await s.scalars(sa.select(Credential.id).where(Credential.tenant_id.in_((a.id, b.id)))))
        assert ai == {"openai": ("sk-openai-0001234", None), "compatible": ("", "http://ollama.internal:11434/v1")}
        assert (mail.kind, mail.webhook_provider) == ("resend", "resend")
        assert decrypt(mail.webhook_secret, secret=KEY, context=b.id.encode(), previous=()) == WHSEC
        assert left == [mine]
    finally:
        await db.dispose()
