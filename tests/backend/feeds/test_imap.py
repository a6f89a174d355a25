"""trigger.imap against a real Dovecot: a message appended to the mailbox starts one run with the
parsed message (attachments by reference, fetchable), IDLE is used when advertised and polling
otherwise, a restart does not fire a message again, two processes watch a mailbox once, a refused
login is a clear error, a server that is down is retried until it is up, and TLS / STARTTLS verify
the host name while connecting to the checked address."""

from __future__ import annotations

import asyncio
import datetime
import shutil
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path

import aioimaplib
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from backend.db.models import new_id
from backend.feeds.imap import open_mailbox
from backend.feeds.models import FeedPoller, MailAttachment
from backend.feeds.runtime import FeedRuntime
from nodes.errors import NodeConfigError, NodeTemporaryError
from tests.backend.feeds.dovecot import PASSWORD, USER, Dovecot
from tests.backend.triggers.conftest import published_workflow, simple_graph, wait_for_runs


def _message(n: int, *, attach: bool = True) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ada Lovelace <ada@example.org>"
    msg["To"] = "Team <team@example.org>, bob@example.org"
    msg["Cc"] = "carol@example.org"
    msg["Subject"] = f"Report {n} — ünïcode"
    msg["Date"] = "Sun, 06 Dec 2026 02:00:00 +0000"
    msg["Message-ID"] = f"<report-{n}@example.org>"
    msg.set_content(f"Plain text of report {n}")
    msg.add_alternative(f"<p>HTML of report {n}</p>", subtype="html")
    if attach:
        msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="numbers.csv")
        msg.add_attachment(bytes(range(256)) * 4, maintype="application", subtype="octet-stream", filename="blob.bin")
    return msg.as_bytes()


async def _append(server, raw: bytes) -> None:
    client = aioimaplib.IMAP4(host="127.0.0.1", port=server.port)
    await client.wait_hello_from_server()
    assert (await client.login(USER, PASSWORD)).result == "OK"
    assert (await client.append(raw, mailbox="INBOX")).result == "OK"
    await client.logout()


async def _workflow(client, h, server, *, password: str = PASSWORD, poll_s: int = 60) -> str:
    r = await client.post("/api/credentials", json={"name": f"imap {server.port} {password}", "type": "imap",
                                                    "data": server.credential(password)}, headers=h)
    assert r.status_code == 201, r.text
    doc = simple_graph("trigger.imap", credential=r.json()["id"], mailbox="INBOX", poll_s=poll_s)
    return await published_workflow(client, h, doc)


async def _poller(app, wf: str) -> FeedPoller:
    async with app.state.db.sessionmaker() as s:
        return await s.scalar(select(FeedPoller).where(FeedPoller.workflow_id == wf))


async def _until(check, timeout: float = 30):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached within {timeout} s")


async def _watching(app, wf: str) -> FeedPoller:
    """The poller once its watcher has opened the mailbox and remembered its UIDVALIDITY."""
    async def ready():
        p = await _poller(app, wf)
        return p if p.state.get("uidvalidity") else None
    return await _until(ready)


async def _idle(runtime, poller_id: str) -> None:
    async def idling():
        task = runtime.watchers.get(poller_id)
        watcher = getattr(task, "watcher", None)
        return watcher is not None and watcher.box is not None and watcher.box.client.has_pending_idle()
    await _until(idling)


async def test_a_new_message_starts_a_run_with_the_parsed_message_over_idle(app, client, tenant_a, dovecot_factory):
    """Mail already there is not fired; a message appended while the watcher IDLEs starts one run with it parsed."""
    h = tenant_a.editor.headers
    server = await dovecot_factory()
    await _append(server, _message(0))
    wf = await _workflow(client, h, server, poll_s=3600)
    await app.state.feeds.tick()
    poller = await _watching(app, wf)
    assert poller.state["last_uid"] == 1 and poller.last_error is None
    await _idle(app.state.feeds, poller.id)

    await _append(server, _message(1))
    [run] = await wait_for_runs(client, h, wf, 1)     # well before the watcher's next 30 s round: IDLE pushed it
    payload = (await client.get(f"/api/runs/{run['id']}", headers=h)).json()["input"]
    assert run["trigger"] == "imap"
    assert payload["from"] == {"name": "Ada Lovelace", "address": "ada@example.org"}
    assert [a["address"] for a in payload["to"]] == ["team@example.org", "bob@example.org"]
    assert payload["cc"] == [{"name": "", "address": "carol@example.org"}]
    assert payload["subject"] == "Report 1 — ünïcode" and payload["message_id"] == "<report-1@example.org>"
    assert payload["date"] == "2026-12-06T02:00:00+00:00" and payload["uid"] == 2
    assert payload["text"].strip() == "Plain text of report 1" and "HTML of report 1" in payload["html"]
    csv, blob = payload["attachments"]
    assert (csv["name"], csv["content_type"], csv["size"]) == ("numbers.csv", "text/csv", 8)
    assert (blob["name"], blob["size"]) == ("blob.bin", 1024) and "data" not in blob
    r = await client.get(f"/api/workflows/{wf}/attachments/{blob['ref']}", headers=h)
    assert r.status_code == 200 and r.content == bytes(range(256)) * 4
    assert 'filename="blob.bin"' in r.headers["content-disposition"]
    r = await client.get(f"/api/workflows/{wf}/attachments/{csv['ref']}", headers=tenant_a.viewer.headers)
    assert r.status_code == 200 and r.content == b"a,b\n1,2\n"
    async with app.state.db.sessionmaker() as s:   # tied to the run, so they go when retention prunes it
        owned = await s.scalars(select(MailAttachment.id).where(MailAttachment.run_id == run["id"]))
        assert sorted(owned) == sorted([csv["ref"], blob["ref"]])

    # A restart (another process takes the mailbox over) fires nothing again; the next message fires once.
    await app.state.feeds.stop()
    restarted = FeedRuntime(app.state)
    app.state.feeds = restarted
    await restarted.tick()
    await _idle(restarted, poller.id)
    await _append(server, _message(2, attach=False))
    runs = await wait_for_runs(client, h, wf, 2)
    assert len(runs) == 2
    assert (await _poller(app, wf)).state["last_uid"] == 3


async def test_without_idle_the_mailbox_is_polled(app, client, tenant_a, dovecot_factory):
    """A server that does not advertise IDLE is checked every poll_s seconds."""
    h = tenant_a.editor.headers
    server = await dovecot_factory(idle=False)
    wf = await _workflow(client, h, server, poll_s=10)
    await app.state.feeds.tick()
    poller = await _watching(app, wf)
    assert app.state.feeds.watchers[poller.id].watcher.idle is False
    await _append(server, _message(1, attach=False))
    [run] = await wait_for_runs(client, h, wf, 1, timeout=30)
    assert run["trigger"] == "imap"


async def test_a_refused_login_is_a_clear_error(app, client, tenant_a, dovecot_factory):
    """A wrong password is recorded on the poller (and shown by GET .../feeds) without the password."""
    h = tenant_a.editor.headers
    server = await dovecot_factory()
    wf = await _workflow(client, h, server, password="wrong-password-123")
    await app.state.feeds.tick()

    async def refused():
        [p] = (await client.get(f"/api/workflows/{wf}/feeds", headers=h)).json()
        return p if p["last_error"] else None
    p = await _until(refused)
    assert "refused the login of 'ada'" in p["last_error"] and "wrong-password-123" not in p["last_error"]
    assert p["kind"] == "imap" and p["watching"] is True


async def test_a_server_down_then_up_is_retried(app, client, tenant_a, dovecot_factory):
    """While the server is down the error is recorded and retried; once it is up, new mail starts a run."""
    h = tenant_a.editor.headers
    server = await dovecot_factory(start=False)
    wf = await _workflow(client, h, server, poll_s=10)
    await app.state.feeds.tick()

    async def failing():
        p = await _poller(app, wf)
        return p if p.last_error else None
    assert "could not connect to the IMAP server" in (await _until(failing)).last_error
    await server.start()
    poller = await _watching(app, wf)
    assert poller.last_error is None
    await _append(server, _message(1, attach=False))
    assert len(await wait_for_runs(client, h, wf, 1, timeout=30)) == 1


async def test_attachments_of_another_tenant_or_workflow_are_not_found(app, client, tenant_a, tenant_b):
    """An attachment ref answers 404 through another workspace or another workflow of the same one."""

    h = tenant_a.editor.headers
    wf = await published_workflow(client, h, simple_graph(name="mine"))
    other = await published_workflow(client, h, simple_graph(name="other"))
    ref = new_id()
    async with app.state.db.sessionmaker() as s:
        s.add(MailAttachment(id=ref, tenant_id=tenant_a.id, workflow_id=wf, message_id="<m@x>", filename="a.txt",
                             content_type="text/plain", size=2, data=b"hi"))
        await s.commit()
    assert (await client.get(f"/api/workflows/{wf}/attachments/{ref}", headers=h)).content == b"hi"
    assert (await client.get(f"/api/workflows/{other}/attachments/{ref}", headers=h)).status_code == 404
    r = await client.get(f"/api/workflows/{wf}/attachments/{ref}", headers=tenant_b.owner.headers)
    assert r.status_code == 404
    assert (await client.get(f"/api/workflows/{wf}/attachments/not-an-id", headers=h)).status_code == 404


def _tls_files(directory, name: str):
    """A self-signed certificate for `name` (cert and key files) and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (directory / "cert.pem").write_bytes(pem)
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return (directory / "cert.pem", directory / "key.pem"), ssl.create_default_context(cadata=pem.decode())


async def test_tls_and_starttls_verify_the_host_name_while_connecting_to_the_checked_address():
    """Implicit TLS and STARTTLS log in to a server whose certificate names the host; another name is refused."""
    root = Path(tempfile.mkdtemp(prefix="maily-dovecot-"))
    root.chmod(0o755)   # the server's own directory below must be reachable by the dovecot user
    (root / "tls").mkdir()
    files, trusting = _tls_files(root / "tls", "localhost")
    server = Dovecot(root / "server", tls=files)
    await server.start()
    allowed = frozenset({"127.0.0.1"})
    try:
        for security, port in (("tls", server.tls_port), ("starttls", server.port)):
            fields = {**server.credential(), "host": "localhost", "port": port, "security": security}
            box = await open_mailbox(fields, "INBOX", allowed, tls_context=trusting)
            assert box.uidvalidity > 0
            tls = box.client.protocol.transport.get_extra_info("ssl_object")
            assert tls is not None and tls.server_hostname == "localhost", security
            await box.close()
        (root / "other").mkdir()
        _, other_trust = _tls_files(root / "other", "mail.other.test")
        fields = {**server.credential(), "host": "localhost", "port": server.tls_port, "security": "tls"}
        with pytest.raises(NodeTemporaryError, match="certificate verify failed"):
            await open_mailbox(fields, "INBOX", allowed, tls_context=other_trust)
    finally:
        await server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_two_processes_watch_a_mailbox_once(app, client, tenant_a, dovecot_factory):
    """Two runtimes ticking at once: one holds the mailbox's lease and watches it, the other does not."""
    h = tenant_a.editor.headers
    server = await dovecot_factory()
    wf = await _workflow(client, h, server)
    poller = await _poller(app, wf)
    a, b = FeedRuntime(app.state), FeedRuntime(app.state)
    try:
        await asyncio.gather(a.tick(), b.tick())
        assert (poller.id in a.watchers) != (poller.id in b.watchers)
        holder = a if poller.id in a.watchers else b
        assert (await _poller(app, wf)).lease_owner == holder.owner
        await (b if holder is a else a).tick()     # a held lease is not taken over
        assert (poller.id in a.watchers) != (poller.id in b.watchers)
    finally:
        await a.stop()
        await b.stop()
    assert (await _poller(app, wf)).lease_owner is None     # released at stop, for another process


async def test_a_private_imap_host_is_refused_before_connecting():
    """Without MAILY_HTTP_ALLOWED_HOSTS a private address is a config error naming the IMAP host."""
    fields = {"host": "10.20.30.40", "port": 993, "username": "u", "password": "p", "security": "tls"}
    with pytest.raises(NodeConfigError, match="IMAP host: 10.20.30.40 resolves to 10.20.30.40, a private") as err:
        await open_mailbox(fields, "INBOX", frozenset())
    assert err.value.pointer == "/credential"
