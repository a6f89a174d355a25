"""The SMTP connection goes to the address that passed the private-address check (no second
DNS answer can redirect it), while the hostname stays the TLS server name: real aiosmtpd
servers on loopback, real TLS with a throwaway CA."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nodes.email.mime import Outgoing
from nodes.email.providers import SmtpProvider
from nodes.sdk import NodeConfigError, NodeTemporaryError
from tests.nodes.email.servers import SmtpServer, _free_port


def _msg(i: int) -> Outgoing:
    return Outgoing(key=f"pin:{i}", sender="shop@maily.example", to=f"user{i}@example.com", subject=f"Hi {i}",
                    text="hello\n", unsubscribe_url="https://maily.example/u/x")


class Rebinding:
    """An address checker whose DNS changes its answer after the first lookup."""

    def __init__(self, first: str, later: str):
        self.answers, self.calls = [first, later], 0

    async def __call__(self, host: str, port: int, allowed: frozenset[str]) -> list:
        self.calls += 1
        answer = self.answers[min(self.calls - 1, 1)]
        await asyncio.sleep(0.01)                      # a lookup takes time: other coroutines run meanwhile
        return [ipaddress.ip_address(answer)]


@pytest.fixture
def tls_files(tmp_path):
    """A certificate for mail.pinned.test (only that name) and the client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.pinned.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("mail.pinned.test")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


@pytest.fixture
def rebinding():
    """Two SMTP servers on one port, 127.0.0.1 (checked) and 127.0.0.2 (what DNS says later), and a
    provider for mail.rebind.test whose lookup answers .1 first and .2 afterwards."""
    port = _free_port()
    with SmtpServer(port=port) as good, SmtpServer(host="127.0.0.2", port=port) as evil:
        checker = Rebinding("127.0.0.1", "127.0.0.2")
        smtp = SmtpProvider(host="mail.rebind.test", port=port, security="none", pool_size=4, checker=checker)
        yield smtp, checker, good, evil


class TestPinnedConnection:
    async def test_every_pooled_connection_goes_to_the_checked_address_not_a_rebound_one(self, rebinding):
        """DNS answering 127.0.0.2 after the check said 127.0.0.1 changes nothing: all mail lands on .1."""
        smtp, checker, good, evil = rebinding
        try:
            for i in range(6):
                await smtp.send(_msg(i))
            smtp._pool = None                    # drop the pool: new connections, same pinned address
            await smtp.send(_msg(6))
        finally:
            await smtp.aclose()
        assert checker.calls == 1
        assert len(good.messages) == 7 and evil.messages == []

    async def test_connections_opened_at_once_share_one_lookup(self, rebinding):
        """A batch opens its pooled connections concurrently: one check, and all go to the address it passed."""
        smtp, checker, good, evil = rebinding
        try:
            await asyncio.gather(*(smtp.send(_msg(i)) for i in range(8)))
            opened = len(smtp._opened)
        finally:
            await smtp.aclose()
        assert checker.calls == 1 and opened == 4
        assert len(good.messages) == 8 and evil.messages == []

    async def test_an_unresolvable_hostname_is_never_resolved_again_by_the_smtp_client(self):
        """The name only the checker knows is reachable: the client connects to the checked IP itself."""
        with SmtpServer() as server:
            smtp = SmtpProvider(host="only-the-checker-knows.invalid", port=server.port, security="none",
                                checker=Rebinding("127.0.0.1", "127.0.0.1"))
            try:
                await smtp.send(_msg(1))
            finally:
                await smtp.aclose()
            assert [m["to"] for m in server.messages] == [["user1@example.com"]]

    async def test_a_private_smtp_host_fails_the_batch_without_connecting(self):
        """Without MAILY_HTTP_ALLOWED_HOSTS, 127.0.0.1 is refused before any connection, for the whole batch."""
        with SmtpServer() as server:
            smtp = SmtpProvider(host="127.0.0.1", port=server.port, security="none")
            with pytest.raises(NodeConfigError) as info:
                await smtp.send(_msg(1))
            await smtp.aclose()
            assert info.value.pointer == "/provider" and "private" in info.value.message
            assert server.messages == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
class TestTlsKeepsTheHostname:
    async def test_the_certificate_is_checked_against_the_hostname_while_connecting_to_the_ip(self, security,
                                                                                                tls_files):
        """Connected to 127.0.0.1, TLS still sends SNI mail.pinned.test and accepts its certificate."""
        server_ctx, client_ctx = tls_files
        kw = {"starttls": server_ctx} if security == "starttls" else {"implicit_tls": server_ctx}
        with SmtpServer(**kw) as server:
            smtp = SmtpProvider(host="mail.pinned.test", port=server.port, security=security, tls_context=client_ctx,
                                checker=Rebinding("127.0.0.1", "127.0.0.1"))
            try:
                await smtp.send(_msg(1))
            finally:
                await smtp.aclose()
            assert len(server.messages) == 1

    async def test_a_certificate_for_another_name_is_refused(self, security, tls_files):
        """The same server under another name fails verification: nothing is delivered."""
        server_ctx, client_ctx = tls_files
        kw = {"starttls": server_ctx} if security == "starttls" else {"implicit_tls": server_ctx}
        with SmtpServer(**kw) as server:
            smtp = SmtpProvider(host="other.pinned.test", port=server.port, security=security, tls_context=client_ctx,
                                checker=Rebinding("127.0.0.1", "127.0.0.1"))
            with pytest.raises(NodeTemporaryError) as info:
                await smtp.send(_msg(1))
            await smtp.aclose()
            assert "certificate" in info.value.message.lower() or "hostname" in info.value.message.lower()
            assert server.messages == []
