"""`maily secrets rotate`: after it, the new key alone opens everything,
the old key alone opens nothing, no value changed; before it, the app reads with new + previous."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from backend.ai.models import AiCredential
from backend.certify.models import SigningKey
from backend.credentials.envelope import Keyring, VaultKeyError
from backend.credentials.models import Credential
from backend.credentials.resolver import DbCredentialStore
from backend.credentials.rotate import rotate
from backend.credentials.services import open_values, sealed_of
from backend.crypto import DecryptError, decrypt, encrypt
from backend.db.migrate import upgrade_async
from backend.email.models import EmailProviderConfig
from tests.backend.conftest import BACKENDS, drop_pg_database, fresh_database

OLD, NEW = "test-secret-key", "the-new-secret-key-after-rotation"


@pytest.fixture(params=BACKENDS)
async def db_url(request, tmp_path_factory):
    """A database of its own per test: rotation re-seals every row of the database it is given."""
    url = await fresh_database(request.param, tmp_path_factory.mktemp("rotate"))
    await upgrade_async(url)
    yield url
    await drop_pg_database(url)


def maily(*args: str, db_url: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "MAILY_DATA_DIR": str(tmp_path / "var"), "MAILY_DATABASE_URL": db_url, "COLUMNS": "200", **env}
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], capture_output=True, text=True, env=full,
                          timeout=120, cwd=Path(__file__).resolve().parents[3])


async def _fill(client, tenant) -> dict[str, str]:
    """A vault credential, an AI key and an email provider (both in the vault), a signing key: under OLD."""
    h = tenant.owner.headers
    r = await client.post("/api/credentials", json={"name": "api", "type": "basic",
                                                    "data": {"username": "ada", "password": "vault-pw"}}, headers=h)
    assert r.status_code == 201, r.text
    made = {"id": r.json()["id"]}
    assert (await client.put("/api/ai/credentials/openai", json={"api_key": "sk-ai-key-1234"}, headers=h)).status_code == 200
    r = await client.put("/api/email/provider", json={"kind": "resend", "secret": "smtp-pw",
                                                      "webhook_signing_key": "whsec_c2lnbmluZy1rZXk="}, headers=h)
    assert r.status_code == 200, r.text
    assert (await client.post("/api/certificates/keys/rotate", headers=h)).status_code == 201
    return made


async def _crypto_values(db, tenant_id: str) -> list[str]:
    """The backend/crypto.py values: the signing key, and AI / email secrets left in their old
    tables (rows migration 0017 could not open stay there, so rotation covers them too)."""
    async with db.sessionmaker() as s:
        key = await s.scalar(sa.select(SigningKey.private_key).where(SigningKey.tenant_id == tenant_id))
        ai = await s.scalar(sa.select(AiCredential.secret).where(AiCredential.tenant_id == tenant_id))
        email = await s.get(EmailProviderConfig, tenant_id)
    return [key, ai, email.secret, email.webhook_secret]


async def _leftovers(db, tenant_id: str) -> None:
    async with db.sessionmaker() as s, s.begin():
        s.add(AiCredential(tenant_id=tenant_id, provider="anthropic", key_hint="",
                           secret=encrypt("old-ai-key", secret=OLD, context=tenant_id.encode())))
        s.add(EmailProviderConfig(tenant_id=tenant_id, kind="smtp", settings={},
                                  secret=encrypt("old-smtp-pw", secret=OLD, context=tenant_id.encode()),
                                  webhook_secret=encrypt("old-whsec", secret=OLD, context=tenant_id.encode())))


async def _vault(db, tenant_id: str, keyring: Keyring) -> dict[str, dict]:
    async with db.sessionmaker() as s:
        rows = list(await s.scalars(sa.select(Credential).where(Credential.tenant_id == tenant_id)))
    return {r.type: open_values(r, keyring) for r in rows}


def _open_all(tokens: list[str], tenant_id: str, secret: str) -> list[str]:
    return [decrypt(t, secret=secret, context=tenant_id.encode(), previous=()) for t in tokens]


async def _row(db, cid: str) -> Credential:
    async with db.sessionmaker() as s:
        return await s.get(Credential, cid)


async def test_rotate_moves_everything_to_the_new_key_and_loses_nothing(client, db, db_url, tenant_a, tmp_path):
    """After `maily secrets rotate`, NEW alone opens every secret with its old value; OLD alone opens none."""
    made = await _fill(client, tenant_a)
    await _leftovers(db, tenant_a.id)
    before = _open_all(await _crypto_values(db, tenant_a.id), tenant_a.id, OLD)
    assert before[1:] == ["old-ai-key", "old-smtp-pw", "old-whsec"]
    vault = await _vault(db, tenant_a.id, Keyring(OLD))
    assert vault["ai_provider"]["api_key"] == "sk-ai-key-1234" and vault["email_provider"]["secret"] == "smtp-pw"

    # Restarted with the new key and the old as previous: everything still reads (no downtime).
    both = Keyring(NEW, (OLD,))
    assert open_values(await _row(db, made["id"]), both)["password"] == "vault-pw"
    assert (await DbCredentialStore(db, both).resolve(tenant_a.id, made["id"], ())).fields["password"] == "vault-pw"
    assert [decrypt(t, secret=NEW, context=tenant_a.id.encode(), previous=(OLD,))
            for t in await _crypto_values(db, tenant_a.id)] == before

    result = maily("secrets", "rotate", db_url=db_url, tmp_path=tmp_path,
                   MAILY_SECRET_KEY=NEW, MAILY_SECRET_KEY_PREVIOUS=OLD)
    assert result.returncode == 0, result.stderr
    assert "0 unreadable" in result.stdout and "re-wrapped" in result.stdout

    row = await _row(db, made["id"])
    assert open_values(row, Keyring(NEW)) == {"username": "ada", "password": "vault-pw"}
    assert await _vault(db, tenant_a.id, Keyring(NEW)) == vault
    with pytest.raises(VaultKeyError):
        Keyring(OLD).open(row.tenant_id, row.id, sealed_of(row))
    after = await _crypto_values(db, tenant_a.id)
    assert _open_all(after, tenant_a.id, NEW) == before
    for token in after:
        with pytest.raises(DecryptError):
            decrypt(token, secret=OLD, context=tenant_a.id.encode(), previous=())


async def test_rotate_again_changes_nothing(client, db, tenant_a):
    """A second rotation finds everything current: nothing re-wrapped, nothing re-encrypted."""
    await _fill(client, tenant_a)
    await _leftovers(db, tenant_a.id)
    first = await rotate(db, Keyring(NEW, (OLD,)))
    second = await rotate(db, Keyring(NEW, (OLD,)))
    assert (first.rewrapped, first.reencrypted) == (3, 4)
    assert (second.rewrapped, second.reencrypted, second.unreadable) == (0, 0, [])


async def test_a_value_no_key_opens_is_reported_not_destroyed(client, db, tenant_a):
    """Without the old key among the previous ones, rotation reports the rows as unreadable and leaves them."""
    made = await _fill(client, tenant_a)
    row = await _row(db, made["id"])
    report = await rotate(db, Keyring(NEW, ("some-other-key",)))
    assert f"credentials.wrapped_key:{made['id']}" in report.unreadable
    assert open_values(await _row(db, made["id"]), Keyring(OLD))["password"] == "vault-pw"
    assert (await _row(db, made["id"])).wrapped_key == row.wrapped_key
