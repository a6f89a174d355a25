"""Certificates: the public verify endpoint, `maily verify`, tamper
tests on the certificate and the ledger, key rotation, tenant isolation."""

from __future__ import annotations

import asyncio
import copy
import json

import sqlalchemy as sa

from backend.certify.models import LedgerEntry
from backend.certify.services import DbLedger
from backend.keys import secret_key
from tests.backend.conftest import assert_problem


async def test_certify_verify_rotate_and_tamper(client, db, settings, tenant_a, tenant_b, tmp_path, monkeypatch):
    ledger = DbLedger(db, secret_key(settings))
    cert = await ledger.certify(tenant_a.id, {"run_id": "r1"}, {"sent": {"to": "a@example.com"}, "checks": [1, 2]})
    r = await client.post("/api/certificates/verify", json=cert)       # public: no token
    assert r.status_code == 200 and r.json()["valid"], r.json()
    await client.post("/api/certificates/keys/rotate", headers=tenant_a.owner.headers)
    second = await ledger.certify(tenant_a.id, {"run_id": "r2"}, {"n": 2})
    assert second["key_id"] != cert["key_id"]
    for c in (cert, second):
        assert (await client.post("/api/certificates/verify", json=c)).json()["valid"]
    assert len((await client.get("/api/certificates/keys", headers=tenant_a.viewer.headers)).json()) == 2
    assert_problem(await client.post("/api/certificates/keys/rotate", headers=tenant_a.editor.headers), 403)
    for mutate in (lambda c: c["content"]["sent"].update(to="b@example.com"), lambda c: c.update(tenant_id=tenant_b.id),
                   lambda c: c["ledger"].update(seq=2)):
        forged = copy.deepcopy(cert)
        mutate(forged)
        assert not (await client.post("/api/certificates/verify", json=forged)).json()["valid"]
    # tenant isolation
    assert (await client.get(f"/api/certificates/{cert['id']}", headers=tenant_a.viewer.headers)).json()["id"] == cert["id"]
    assert_problem(await client.get(f"/api/certificates/{cert['id']}", headers=tenant_b.owner.headers), 404)
    # the CLI
    from typer.testing import CliRunner
    from backend import cli
    monkeypatch.setattr(cli, "_settings", lambda: settings)
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(second))
    assert (await asyncio.to_thread(CliRunner().invoke, cli.app, ["verify", str(path)])).exit_code == 0
    # the ledger rewritten in the database: the chain check catches it
    async with db.sessionmaker() as s, s.begin():
        await s.execute(sa.update(LedgerEntry).where(LedgerEntry.tenant_id == tenant_a.id, LedgerEntry.seq == 1)
                        .values(cert_hash="f" * 64))
    report = (await client.post("/api/certificates/verify", json=second)).json()
    assert not report["valid"] and report["checks"]["ledger_chain"] is False
    assert (await asyncio.to_thread(CliRunner().invoke, cli.app, ["verify", str(path)])).exit_code == 1
    assert (await client.get("/api/certificates/ledger/check", headers=tenant_a.viewer.headers)).json()["intact"] is False
