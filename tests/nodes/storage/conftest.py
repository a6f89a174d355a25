"""A real S3 on loopback for the storage node tests: moto in server mode with authentication on
(an IAM user whose key signs every request), and a loopback proxy in front of it that can answer
an error or stall before passing a request through."""

from __future__ import annotations

import http.client
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import httpx
import pytest
from nodes.credentials import MemoryCredentials, ResolvedCredential
from tests.nodes.storage.s3_server import moto_s3, signed_requests


@dataclass
class S3Server:
    url: str
    access_key_id: str
    secret_access_key: str

    def credential(self, id_: str = "s3", url: str | None = None, **fields) -> ResolvedCredential:
        values = {"endpoint_url": url or self.url, "region": "us-east-1", "access_key_id": self.access_key_id,
                  "secret_access_key": self.secret_access_key, "force_path_style": True, **fields}
        return ResolvedCredential(id_, "s3", values, ("secret_access_key",))

    def boto(self):
        """A plain (sync) boto3 client, to arrange and check objects beside the node."""
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key)


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 on 127.0.0.1 with request authentication on, and the key of a user allowed everything."""
    with moto_s3() as url, signed_requests(url) as (key_id, secret):
        yield S3Server(url, key_id, secret)


@pytest.fixture
def auth_off(s3_server):
    """moto's authentication off for one test (moto reads only an Authorization header, so with it on
    a presigned URL's query-string signature answers 500); back on afterwards."""
    httpx.post(f"{s3_server.url}/moto-api/reset-auth", content=b"inf").raise_for_status()
    yield
    httpx.post(f"{s3_server.url}/moto-api/reset-auth", content=b"0").raise_for_status()


@pytest.fixture
def bucket(s3_server):
    """A fresh bucket's name."""
    name = f"b-{uuid.uuid4().hex[:12]}"
    s3_server.boto().create_bucket(Bucket=name)
    return name


@pytest.fixture(autouse=True)
def allow_loopback(monkeypatch):
    """Loopback endpoints allowed, as an operator allows an internal S3 (MAILY_HTTP_ALLOWED_HOSTS)."""
    monkeypatch.setenv("MAILY_HTTP_ALLOWED_HOSTS", "127.0.0.1")


@pytest.fixture
def s3_ctx(make_ctx, s3_server):
    """A NodeContext whose vault holds `s3` (the good key) plus the credentials given."""

    def make(*extra: ResolvedCredential, url: str | None = None):
        creds = {c.id: c for c in (s3_server.credential(url=url), *extra)}
        return make_ctx(services={"credentials": MemoryCredentials(creds)})

    return make


@dataclass
class Proxy:
    """Counts requests; answers the queued (status, code) errors first (or stalls, or redirects),
    then passes requests on."""
    url: str
    upstream: int
    failures: list[tuple[int, str]] = field(default_factory=list)
    stall: threading.Event | None = None
    redirect_to: str | None = None   # answer 307 with this Location (a path is appended)
    requests: int = 0


def _handler(proxy: Proxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes):
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self):
            proxy.requests += 1
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if proxy.stall is not None:
                proxy.stall.wait(10)
            if proxy.redirect_to:
                return self._answer(307, [("Location", proxy.redirect_to + self.path)], b"")
            if proxy.failures:
                status, code = proxy.failures.pop(0)
                xml = f"<Error><Code>{code}</Code><Message>{code} from the proxy</Message></Error>".encode()
                return self._answer(status, [("Content-Type", "application/xml")], xml)
            conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=10)
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():   # Host included: it was signed
                conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            self._answer(resp.status, resp.getheaders(), resp.read())
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _route

    return Handler


@pytest.fixture
def proxy(s3_server):
    """A loopback proxy in front of moto (a fresh one per test)."""
    upstream = int(s3_server.url.rsplit(":", 1)[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    p = Proxy(f"http://127.0.0.1:{server.server_address[1]}", upstream)
    server.RequestHandlerClass = _handler(p)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield p
    if p.stall is not None:
        p.stall.set()
    server.shutdown()
    server.server_close()
