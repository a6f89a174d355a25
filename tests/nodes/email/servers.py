"""Loopback servers for the email tests and benchmark: an SMTP server (aiosmtpd), an HTTP
server speaking the Resend, SendGrid and Mailgun send APIs (with injectable 429/5xx), and a
tiny DNS server (dnspython) answering from a dict of zones."""

from __future__ import annotations

import base64
import email
import json
import socket
import ssl
import threading
import uuid
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from aiosmtpd.controller import Controller


class _Collect:
    def __init__(self):
        self.messages: list[dict] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": msg,
                                  "raw": envelope.content})
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 in its own thread; `.messages` holds what it received."""

    def __init__(self, auth: tuple[str, str] | None = None, *, host: str = "127.0.0.1", port: int | None = None,
                 starttls: ssl.SSLContext | None = None, implicit_tls: ssl.SSLContext | None = None):
        self.handler = _Collect()
        kwargs: dict = {}
        if auth:
            def authenticator(server, session, envelope, mechanism, auth_data):
                from aiosmtpd.smtp import AuthResult
                ok = (auth_data.login.decode(), auth_data.password.decode()) == auth
                return AuthResult(success=ok, handled=False)
            kwargs = {"authenticator": authenticator, "auth_require_tls": False}
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:
            kwargs.update(ssl_context=implicit_tls)
        self.controller = Controller(self.handler, hostname=host, port=port or _free_port(host), **kwargs)

    @property
    def messages(self) -> list[dict]:
        return self.handler.messages

    @property
    def port(self) -> int:
        return self.controller.port

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _ApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, doc: dict | None, extra: dict | None = None):
        body = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        api: ProviderApi = self.server.api  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlparse(self.path).path
        auth = self.headers.get("Authorization", "")
        with api.lock:
            api.requests += 1
            if api.fail_next:
                status = api.fail_next.pop(0)
                return self._send(status, {"message": "try later"}, {"Retry-After": "0"} if status == 429 else None)
        if path == "/emails":
            if auth != f"Bearer {api.key}":
                return self._send(401, {"message": "bad key"})
            doc = json.loads(raw)
            key = self.headers.get("Idempotency-Key")
            with api.lock:
                if key and key in api.idempotency:  # Resend: the same key gets the first answer
                    return self._send(200, {"id": api.idempotency[key]})
                mid = str(uuid.uuid4())
                if key:
                    api.idempotency[key] = mid
                api.deliveries.append({"provider": "resend", "to": doc["to"], "doc": doc, "headers": dict(self.headers)})
            return self._send(200, {"id": mid})
        if path == "/v3/mail/send":
            if auth != f"Bearer {api.key}":
                return self._send(401, {"errors": [{"message": "bad key"}]})
            doc = json.loads(raw)
            with api.lock:
                api.deliveries.append({"provider": "sendgrid", "to": [t["email"] for t in doc["personalizations"][0]["to"]],
                                       "doc": doc, "headers": dict(self.headers)})
            return self._send(202, None, {"X-Message-Id": uuid.uuid4().hex})
        if path.startswith("/v3/") and path.endswith("/messages"):
            if auth != "Basic " + base64.b64encode(f"api:{api.key}".encode()).decode():
                return self._send(401, {"message": "Forbidden"})
            form = parse_qsl(raw.decode())
            doc: dict = {}
            for k, v in form:
                doc.setdefault(k, []).append(v)
            with api.lock:
                api.deliveries.append({"provider": "mailgun", "to": doc["to"], "doc": doc, "domain": path.split("/")[2],
                                       "headers": dict(self.headers)})
            return self._send(200, {"id": f"<{uuid.uuid4().hex}@mg>", "message": "Queued. Thank you."})
        return self._send(404, {"message": "no such endpoint"})


class ProviderApi:
    """One HTTP server for the three APIs. `fail_next` is a list of statuses answered (without
    delivering) to the next requests; `deliveries` lists what was accepted."""

    def __init__(self, key: str = "test-key"):
        self.key = key
        self.lock = threading.Lock()
        self.deliveries: list[dict] = []
        self.idempotency: dict[str, str] = {}
        self.fail_next: list[int] = []
        self.requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _ApiHandler)
        self.server.daemon_threads = True
        self.server.api = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "ProviderApi":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class DnsServer:
    """UDP DNS on 127.0.0.1: zones = {"name.": {"MX": ["10 mx.name."], "A": ["192.0.2.1"]}}.
    Names not in zones answer NXDOMAIN; names present without the type answer NOERROR/empty."""

    def __init__(self, zones: dict[str, dict[str, list[str]]]):
        self.zones = {k.rstrip(".").lower() + ".": v for k, v in zones.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self._stop = False

    def _serve(self):
        while not self._stop:
            try:
                data, addr = self.sock.recvfrom(4096)
            except OSError:
                return
            self.queries += 1
            query = dns.message.from_wire(data)
            resp = dns.message.make_response(query)
            q = query.question[0]
            zone = self.zones.get(q.name.to_text().lower())
            if zone is None:
                resp.set_rcode(dns.rcode.NXDOMAIN)
            else:
                rdtype = dns.rdatatype.to_text(q.rdtype)
                if zone.get(rdtype):
                    resp.answer.append(dns.rrset.from_text_list(q.name, 300, "IN", rdtype, zone[rdtype]))
            self.sock.sendto(resp.to_wire(), addr)

    def __enter__(self) -> "DnsServer":
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self.sock.close()
