"""Mail providers: SMTP (aiosmtplib) and the Resend, SendGrid and Mailgun HTTP APIs.

Each provider's `send(msg, claim)` awaits `claim()` at the last moment before the message is
transmitted (SMTP: connection in hand, envelope accepted, right before DATA; HTTP: right before
the request). When the claim is refused (another run of the lineage holds or sent the key) it
transmits nothing and returns None. Otherwise it returns the provider's message id or raises:
* NodeTemporaryError  - 429, 5xx, connection trouble: the step is retried;
* NodeConfigError     - 4xx: wrong credentials, sender not verified... not retried.
`SendFailed.maybe_sent` tells the exactly-once logic whether the provider may have accepted
the message before the failure (a timeout after the request went out): such a send is never
repeated blindly (see mailer.py).

The HTTP APIs go through SafeHttpClient like http.request: a tenant's `base_url` pointing at
a private address is refused unless the operator allows it (MAILY_HTTP_ALLOWED_HOSTS). The
SMTP host passes the same check once per batch, and every connection of the batch goes to an
address that passed it (the socket is connected to that IP; the hostname stays the TLS server
name for SNI and the certificate check), so DNS cannot answer differently a second time.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

import aiosmtplib

from nodes.email.mime import Outgoing, build_mime
from nodes.net import IPAddress, SafeHttpClient, check_url
from nodes.sdk import NodeConfigError, NodeTemporaryError

PROVIDERS = ("outbox", "smtp", "resend", "sendgrid", "mailgun")
DEFAULT_URLS = {"resend": "https://api.resend.com", "sendgrid": "https://api.sendgrid.com",
                "mailgun": "https://api.mailgun.net"}


Claim = Callable[[], Awaitable[bool]]


class SendFailed(NodeTemporaryError):
    def __init__(self, message: str, *, retry_after: float | None = None, maybe_sent: bool = False):
        super().__init__(message, retry_after=retry_after)
        self.maybe_sent = maybe_sent


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after", "").strip()
    return float(value) if value.replace(".", "", 1).isdigit() else None


def _raise_for(name: str, status: int, headers: dict[str, str], body: bytes) -> None:
    if status == 429 or status >= 500:
        raise SendFailed(f"{name} answered {status}", retry_after=_retry_after(headers))
    if status >= 400:
        raise NodeConfigError(f"{name} refused the message ({status}): {body[:300].decode('utf-8', 'replace')}",
                              pointer="/provider")


@dataclass
class HttpProvider:
    name: str
    api_key: str
    base_url: str = ""
    domain: str = ""                       # Mailgun's sending domain
    http: SafeHttpClient | None = None
    supports_idempotency: bool = False

    def __post_init__(self) -> None:
        self.base_url = (self.base_url or DEFAULT_URLS[self.name]).rstrip("/")
        self.supports_idempotency = self.name == "resend"  # Resend honours Idempotency-Key for 24 h

    async def send(self, msg: Outgoing, claim: Claim | None = None) -> str | None:
        method = getattr(self, f"_{self.name}")
        url, headers, kwargs = method(msg)
        if claim is not None and not await claim():
            return None
        http = self.http or SafeHttpClient()
        try:
            resp = await http.request("POST", url, headers=headers, **kwargs)
        except NodeTemporaryError as exc:  # timeout or broken connection: the request may have landed
            raise SendFailed(f"{self.name}: {exc.message}", maybe_sent=True) from None
        finally:
            if self.http is None:
                await http.aclose()
        _raise_for(self.name, resp.status, resp.headers, resp.body_bytes)
        try:
            doc = json.loads(resp.body_bytes or b"{}")
        except ValueError:
            doc = {}
        return str((doc.get("id") if isinstance(doc, dict) else None) or resp.headers.get("x-message-id", ""))

    def _resend(self, msg: Outgoing) -> tuple[str, dict[str, str], dict[str, Any]]:
        body: dict[str, Any] = {"from": msg.sender, "to": [msg.to], "subject": msg.subject,
                                "headers": msg.all_headers()}
        if msg.html:
            body["html"] = msg.html
        if msg.text:
            body["text"] = msg.text
        if msg.reply_to:
            body["reply_to"] = msg.reply_to
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": msg.key[:256]}
        return f"{self.base_url}/emails", headers, {"json": body}

    def _sendgrid(self, msg: Outgoing) -> tuple[str, dict[str, str], dict[str, Any]]:
        def addr(value: str) -> dict[str, str]:
            from email.utils import parseaddr
            name, email = parseaddr(value)
            return {"email": email, **({"name": name} if name else {})}

        content = ([{"type": "text/plain", "value": msg.text}] if msg.text else []) + \
                  ([{"type": "text/html", "value": msg.html}] if msg.html else [])
        body: dict[str, Any] = {"personalizations": [{"to": [addr(msg.to)]}], "from": addr(msg.sender),
                                "subject": msg.subject, "content": content, "headers": msg.all_headers(),
                                "custom_args": {"maily_key": msg.key[:200]}}
        if msg.reply_to:
            body["reply_to"] = addr(msg.reply_to)
        return f"{self.base_url}/v3/mail/send", {"Authorization": f"Bearer {self.api_key}"}, {"json": body}

    def _mailgun(self, msg: Outgoing) -> tuple[str, dict[str, str], dict[str, Any]]:
        import base64

        if not self.domain:
            raise NodeConfigError("Mailgun needs the sending domain", pointer="/provider")
        form = [("from", msg.sender), ("to", msg.to), ("subject", msg.subject), ("v:maily_key", msg.key)]
        form += [("text", msg.text)] if msg.text else []
        form += [("html", msg.html)] if msg.html else []
        form += [("h:Reply-To", msg.reply_to)] if msg.reply_to else []
        form += [(f"h:{k}", v) for k, v in msg.all_headers().items()]
        auth = base64.b64encode(f"api:{self.api_key}".encode()).decode()
        headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"}
        return f"{self.base_url}/v3/{self.domain}/messages", headers, {"content": urlencode(form)}


async def check_smtp_host(host: str, port: int, allowed_hosts: frozenset[str]) -> list[IPAddress]:
    """The addresses `host` may be reached at (the private-address rule of http.request)."""
    try:
        return await check_url(f"http://{_url_host(host)}:{port}/", allowed_hosts)
    except NodeConfigError as exc:   # blocked, or no such host: every message of the batch would fail
        raise NodeConfigError(f"SMTP host: {exc.message}", pointer="/provider") from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class _NotClaimed(Exception):
    """The claim before DATA was refused: nothing is transmitted."""


class _ClaimingSMTP(aiosmtplib.SMTP):
    """aiosmtplib's client with one hook: `before_data` (the send-log claim) is awaited after
    MAIL FROM and RCPT TO were accepted and before DATA, so a row is claimed only for a send
    that is really starting; `data_started` says whether DATA was begun."""

    before_data: Claim | None = None
    data_started: bool = False

    async def data(self, message: Any, timeout: Any = aiosmtplib.smtp.Default.token) -> Any:
        if self.before_data is not None and not await self.before_data():
            raise _NotClaimed()
        self.data_started = True
        return await super().data(message, timeout=timeout)


@dataclass
class SmtpProvider:
    """One server; connections are pooled per batch (a TLS handshake per mail would dominate).

    The host is resolved and checked once (`checker`, by default check_smtp_host); every
    connection is a socket connected to one of those addresses, handed to aiosmtplib with
    the hostname, which stays the TLS server name (SNI, certificate check)."""

    host: str
    port: int = 587
    security: str = "starttls"             # starttls | tls | none
    username: str = ""
    password: str = ""
    timeout_s: float = 30.0
    pool_size: int = 4
    allowed_hosts: frozenset[str] = frozenset()
    validate_certs: bool = True
    tls_context: ssl.SSLContext | None = None   # operators and tests: a private CA
    checker: Callable[[str, int, frozenset[str]], Awaitable[list[IPAddress]]] = check_smtp_host
    supports_idempotency: bool = False
    name: str = "smtp"
    _pool: asyncio.Queue | None = field(default=None, init=False, repr=False)
    _opened: list[aiosmtplib.SMTP] = field(default_factory=list, init=False, repr=False)
    _addresses: list[IPAddress] | None = field(default=None, init=False, repr=False)
    _resolving: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    async def _socket(self) -> socket.socket:
        async with self._resolving:   # pooled connections open concurrently: one lookup for all of them
            if self._addresses is None:
                self._addresses = await self.checker(self.host, self.port, self.allowed_hosts)
        loop, error = asyncio.get_running_loop(), None
        for ip in self._addresses:
            sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, (str(ip), self.port)), self.timeout_s)
                return sock
            except (OSError, asyncio.TimeoutError) as exc:
                sock.close()
                error = exc
        raise SendFailed(f"SMTP {self.host}:{self.port}: cannot connect to {self._addresses[0]}: "
                         f"{error or 'no address'}")

    async def _connect(self) -> "_ClaimingSMTP":
        sock = await self._socket()
        client = _ClaimingSMTP(hostname=self.host, sock=sock, timeout=self.timeout_s,
                               use_tls=self.security == "tls",
                               start_tls=True if self.security == "starttls" else False,
                               validate_certs=self.validate_certs, tls_context=self.tls_context)
        try:
            await client.connect()
            if self.username:
                await client.login(self.username, self.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            client.close()
            raise NodeConfigError(f"SMTP login refused: {exc.code} {exc.message}", pointer="/provider") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            sock.close()
            raise SendFailed(f"SMTP {self.host}:{self.port}: {exc}") from None
        self._opened.append(client)
        return client

    async def check_login(self) -> None:
        """Connect (the checked address), log in when a username is set, and quit: the vault's test."""
        client = await self._connect()
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
        self._opened.remove(client)

    async def send(self, msg: Outgoing, claim: Claim | None = None) -> str | None:
        if self._pool is None:
            self._pool = asyncio.Queue()
            for _ in range(self.pool_size):
                self._pool.put_nowait(None)
        client = await self._pool.get()
        started = False
        try:
            if client is None or not client.is_connected:
                client = await self._connect()
            conn = client
            conn.before_data, conn.data_started = claim, False
            mime = build_mime(msg)
            try:
                await conn.send_message(mime, sender=msg.envelope_from, recipients=[msg.envelope_to])
            except _NotClaimed:
                await conn.rset()     # MAIL and RCPT were accepted: end that transaction
                return None
            except (aiosmtplib.SMTPException, asyncio.CancelledError):
                raise
            except Exception:         # the claim itself failed (the database): the dialogue is mid-way
                conn.close()
                client = None
                raise
            finally:
                started = conn.data_started
            return mime["Message-ID"]
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise NodeConfigError(f"SMTP refused the recipient: {exc}", pointer="/to") from None
        except aiosmtplib.SMTPResponseException as exc:
            client = None
            if 400 <= exc.code < 500:
                raise SendFailed(f"SMTP answered {exc.code} {exc.message}") from None
            raise NodeConfigError(f"SMTP refused the message: {exc.code} {exc.message}", pointer="/provider") from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as exc:
            client = None  # after DATA started it may have gone after the final "." was accepted
            raise SendFailed(f"SMTP connection lost: {exc}", maybe_sent=started) from None
        except asyncio.CancelledError:
            if client is not None:   # cancelled mid-dialogue: the connection's state is unknown
                client.close()
            client = None
            raise
        finally:
            self._pool.put_nowait(client)

    async def aclose(self) -> None:
        for client in self._opened:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
        self._opened.clear()
        self._pool = None


def make_provider(config: dict[str, Any], http: SafeHttpClient | None, allowed_hosts: frozenset[str] = frozenset()) -> Any:
    kind = config.get("kind", "outbox")
    if kind == "smtp":
        return SmtpProvider(host=config["host"], port=int(config.get("port") or 587),
                            security=config.get("security", "starttls"), username=config.get("username", ""),
                            password=config.get("password", ""), allowed_hosts=allowed_hosts,
                            validate_certs=config.get("validate_certs", True))
    if kind in ("resend", "sendgrid", "mailgun"):
        return HttpProvider(kind, api_key=config.get("api_key", ""), base_url=config.get("base_url", ""),
                            domain=config.get("domain", ""), http=http)
    raise NodeConfigError(f"unknown provider {kind!r}", pointer="/provider")
