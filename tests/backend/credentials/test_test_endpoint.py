"""POST /api/credentials/{id}/test against real loopback servers: an HTTP API, aiosmtpd, Dovecot, the local
PostgreSQL, MariaDB and Redis, moto's S3. Failures are 200 {ok: false} with a message that never holds the secret."""

from __future__ import annotations

import base64
import importlib.util
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from tests.nodes.email.servers import SmtpServer
from tests.nodes.storage.s3_server import moto_s3, signed_requests

SECRET = "pw-" + secrets.token_hex(12)


class _Api(BaseHTTPRequestHandler):
    """200 when the request carries the expected credential (any of the four http forms), else 401;
    the 401 body echoes the Authorization header, as careless servers do."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        auth = self.headers.get("Authorization", "")
        good = {f"Bearer {SECRET}", "Basic " + base64.b64encode(f"ada:{SECRET}".encode()).decode()}
        ok = auth in good or self.headers.get("X-Api-Key") == SECRET or f"key={SECRET}" in self.path
        body = b"ok" if ok else f"denied: {auth}".encode()
        self.send_response(200 if ok else 401)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/check"
    server.shutdown()


async def _test(client, member, type_, data, body=None):
    r = await client.post("/api/credentials", json={"name": f"c-{secrets.token_hex(3)}", "type": type_, "data": data},
                          headers=member.headers)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/credentials/{r.json()['id']}/test", json=body or {}, headers=member.headers)
    assert r.status_code == 200, r.text
    assert SECRET not in r.text
    return r.json()


@pytest.mark.parametrize(("type_", "data"), [
    ("bearer", {"token": SECRET}),
    ("basic", {"username": "ada", "password": SECRET}),
    ("header", {"name": "X-Api-Key", "value": SECRET}),
    ("query", {"name": "key", "value": SECRET}),
])
async def test_http_types_call_the_url_with_the_auth_applied(client, tenant_a, api_url, type_, data):
    """Each http type's auth reaches the server the way it should: ok, with the status in the message."""
    out = await _test(client, tenant_a.editor, type_, data, {"url": api_url})
    assert out == {"ok": True, "message": f"GET {api_url} answered 200"}


async def test_a_refused_http_credential_is_ok_false_without_the_secret(client, tenant_a, api_url):
    """A wrong token: ok false, the 401 in the message, the (echoed) secret nowhere."""
    out = await _test(client, tenant_a.editor, "bearer", {"token": SECRET + "-wrong"}, {"url": api_url})
    assert out["ok"] is False and "401" in out["message"]


async def test_http_types_need_a_url(client, tenant_a):
    """No URL to try: ok false saying so."""
    out = await _test(client, tenant_a.owner, "bearer", {"token": SECRET})
    assert out["ok"] is False and "URL" in out["message"]


async def test_private_addresses_are_refused(client, tenant_a):
    """The SSRF guard applies: a private address (not in the allowed hosts) is not called."""
    out = await _test(client, tenant_a.editor, "bearer", {"token": SECRET}, {"url": "http://10.11.12.13/"})
    assert out["ok"] is False and "private" in out["message"]


async def test_smtp_logs_in_on_a_real_server(client, tenant_a):
    """The right password: connected and logged in; a wrong one: ok false, neither password in the message."""
    with SmtpServer(auth=("ada", SECRET)) as server:
        data = {"host": "127.0.0.1", "port": server.port, "username": "ada", "password": SECRET, "security": "none"}
        good = await _test(client, tenant_a.editor, "smtp", data)
        bad = await _test(client, tenant_a.editor, "smtp", {**data, "password": SECRET + "x"})
    assert good["ok"] is True and "logged in as ada" in good["message"]
    assert bad["ok"] is False and "login refused" in bad["message"]


async def test_smtp_to_a_private_address_is_refused(client, tenant_a):
    """SMTP hosts pass the same address check as http.request."""
    out = await _test(client, tenant_a.editor, "smtp", {"host": "10.11.12.13", "port": 25, "password": SECRET,
                                                        "security": "none"})
    assert out["ok"] is False and "private" in out["message"]


async def test_imap_logs_in_on_a_real_dovecot(client, tenant_a):
    """The right password: logged in and INBOX opened; a wrong one: ok false, the password not in the message."""
    import shutil
    import tempfile
    from pathlib import Path

    from tests.backend.feeds.dovecot import Dovecot

    server = Dovecot(Path(tempfile.mkdtemp(prefix="maily-dovecot-")), password=SECRET)
    await server.start()
    try:
        good = await _test(client, tenant_a.editor, "imap", server.credential())
        bad = await _test(client, tenant_a.editor, "imap", server.credential(SECRET + "x"))
    finally:
        await server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
    assert good["ok"] is True and "logged in as ada and opened INBOX" in good["message"]
    assert bad["ok"] is False and "refused the login" in bad["message"]


async def test_postgres_runs_select_1(client, tenant_a):
    """The local PostgreSQL answers select 1; a database that does not exist is ok false."""
    data = {"host": "127.0.0.1", "port": 5432, "database": "postgres", "username": "postgres", "password": SECRET}
    assert (await _test(client, tenant_a.editor, "postgres", data))["ok"] is True
    missing = await _test(client, tenant_a.editor, "postgres", {**data, "database": "no_such_db_here"})
    assert missing["ok"] is False and "no_such_db_here" in missing["message"]


async def test_mysql_runs_select_1(client, tenant_a):
    """The local MariaDB answers select 1; an unknown user is ok false without the password."""
    data = {"host": "127.0.0.1", "port": 3306, "database": "mysql", "username": "root"}
    assert (await _test(client, tenant_a.editor, "mysql", data))["ok"] is True
    refused = await _test(client, tenant_a.editor, "mysql", {**data, "username": "nobody_here", "password": SECRET})
    assert refused["ok"] is False and "nobody_here" in refused["message"]


async def test_redis_answers_ping(client, tenant_a):
    """The local Redis answers PING; a password for a user Redis does not know is ok false without it."""
    data = {"host": "127.0.0.1", "port": 6379, "database": 0}
    out = await _test(client, tenant_a.editor, "redis", data)
    assert out["ok"] is True, out
    refused = await _test(client, tenant_a.editor, "redis", {**data, "username": "nobody_here", "password": SECRET})
    assert refused["ok"] is False and SECRET not in refused["message"]


async def test_sql_hosts_pass_the_address_check(client, tenant_a):
    """A PostgreSQL host on a private address is refused before any connection."""
    out = await _test(client, tenant_a.editor, "postgres", {"host": "10.11.12.13", "port": 5432, "database": "d",
                                                            "username": "u", "password": SECRET})
    assert out["ok"] is False and "private" in out["message"]


async def test_oauth2_answers_without_a_500(client, tenant_a):
    """Without backend/oauth the test says OAuth2 is not available; with it, an unconnected code grant says so."""
    out = await _test(client, tenant_a.editor, "oauth2", {
        "grant_type": "authorization_code", "client_id": "c", "client_secret": SECRET,
        "authorize_url": "https://auth.example/a", "token_url": "https://auth.example/t"})
    assert out["ok"] is False
    if importlib.util.find_spec("backend.oauth") is None:
        assert out["message"] == "OAuth2 is not available"
    else:
        assert "not connected" in out["message"]


async def test_a_webhook_url_passes_the_address_check_without_posting(client, tenant_a, api_url):
    """webhook_url: an allowed host is ok with nothing posted, a private one ok false; the URL is in neither answer."""
    good = await _test(client, tenant_a.editor, "webhook_url", {"url": f"{api_url}/{SECRET}"})
    bad = await _test(client, tenant_a.editor, "webhook_url", {"url": f"http://10.11.12.13/hooks/{SECRET}"})
    assert good["ok"] is True and "nothing was posted" in good["message"]
    assert bad["ok"] is False and "private" in bad["message"]


async def test_s3_lists_the_buckets_with_the_key(client, tenant_a):
    """An s3 credential is tried with ListBuckets on a real S3 (moto): a good key passes, a wrong secret
    fails naming SignatureDoesNotMatch, and neither message holds the secret."""
    with moto_s3() as url, signed_requests(url) as (key_id, secret):
        data = {"endpoint_url": url, "access_key_id": key_id, "secret_access_key": secret, "force_path_style": True}
        good = await _test(client, tenant_a.editor, "s3", data)
        bad = await _test(client, tenant_a.editor, "s3", {**data, "secret_access_key": SECRET})
    assert good["ok"] is True and "accepted" in good["message"] and secret not in good["message"]
    assert bad["ok"] is False and "SignatureDoesNotMatch" in bad["message"]
