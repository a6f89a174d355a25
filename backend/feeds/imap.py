"""An IMAP mailbox for trigger.imap, on aioimaplib (asyncio, so IDLE costs a socket, not a thread).

The host is resolved and checked like every outbound address (nodes/net.py rules,
MAILY_HTTP_ALLOWED_HOSTS lets named internal hosts through) and the connection goes to the
address that was checked; TLS still verifies the certificate against the host name.
Messages are parsed with the stdlib email package (policy.default)."""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import aioimaplib
from aioimaplib.aioimaplib import Command, IMAP4ClientProtocol

from nodes.errors import NodeConfigError, NodeTemporaryError
from nodes.net import check_url

_TEXT_MAX = 200_000
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]")


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


class _PinnedIMAP(aioimaplib.IMAP4):
    """aioimaplib's client connecting to a checked address while TLS verifies the host name."""

    def __init__(self, ip: str, port: int, hostname: str, ssl_context: ssl.SSLContext | None, timeout: float):
        self._hostname = hostname
        super().__init__(host=ip, port=port, timeout=timeout, ssl_context=ssl_context)

    def create_client(self, host: str, port: int, loop: Any, conn_lost_cb: Any = None,
                      ssl_context: ssl.SSLContext | None = None) -> None:
        local_loop = loop if loop is not None else asyncio.get_running_loop()
        self.protocol = IMAP4ClientProtocol(local_loop, conn_lost_cb)
        tls = {"ssl": ssl_context, "server_hostname": self._hostname} if ssl_context else {}
        self._client_task = local_loop.create_task(
            local_loop.create_connection(lambda: self.protocol, host, port, **tls))


class Mailbox:
    """A logged-in, selected mailbox; `uidvalidity` and `uidnext` as SELECT answered."""

    def __init__(self, client: _PinnedIMAP, uidvalidity: int, uidnext: int | None):
        self.client, self.uidvalidity, self.uidnext = client, uidvalidity, uidnext

    @property
    def idle(self) -> bool:
        return self.client.has_capability("IDLE")

    async def new_uids(self, after: int) -> list[int]:
        await self.client.noop()   # the polling command of RFC 3501: the server reports new mail to this session
        resp = await self.client.uid_search(f"UID {after + 1}:*", charset=None)
        if resp.result != "OK":
            raise NodeTemporaryError(f"IMAP SEARCH failed: {_text(resp)}")
        words = b" ".join(bytes(l) for l in resp.lines[:-1]).split()
        # "n:*" always matches the highest UID, even below n (RFC 3501 6.4.8)
        return sorted(u for u in (int(w) for w in words if w.isdigit()) if u > after)

    async def fetch(self, uid: int) -> bytes:
        resp = await self.client.uid("fetch", str(uid), "(BODY.PEEK[])")
        if resp.result != "OK":
            raise NodeTemporaryError(f"IMAP FETCH of UID {uid} failed: {_text(resp)}")
        literals = [bytes(l) for l in resp.lines if isinstance(l, bytearray)]
        if not literals:
            raise NodeTemporaryError(f"IMAP FETCH of UID {uid} returned no message")
        return max(literals, key=len)

    async def wait(self, timeout: float) -> None:
        """Until the server reports a change (IDLE) or `timeout` seconds have passed."""
        if not self.idle:
            await asyncio.sleep(timeout)
            return
        idle = await self.client.idle_start(timeout=timeout)
        try:
            await self.client.wait_server_push(timeout=timeout + 5)
        except asyncio.TimeoutError:
            pass
        finally:
            self.client.idle_done()
            await asyncio.wait_for(idle, self.client.timeout)

    async def close(self) -> None:
        try:
            await self.client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass


def _text(resp: Any) -> str:
    return " ".join(bytes(l).decode("utf-8", "replace") for l in resp.lines if not isinstance(l, bytearray))[:300]


async def open_mailbox(fields: dict[str, Any], mailbox: str, allowed_hosts: frozenset[str],
                       timeout: float = 20.0, tls_context: ssl.SSLContext | None = None) -> Mailbox:
    """Connect, log in and select; NodeConfigError for a refused login or an unknown mailbox,
    NodeTemporaryError when the server cannot be reached. `tls_context`: the system's trust by default."""
    host, port, security = str(fields.get("host") or ""), int(fields.get("port") or 993), fields.get("security", "tls")
    try:   # the private-address rule of http.request, on the host and port we connect to
        ips = await check_url(f"http://{'[' + host + ']' if ':' in host else host}:{port}/", allowed_hosts)
    except NodeConfigError as exc:
        raise NodeConfigError(f"IMAP host: {exc.message}", pointer="/credential") from None
    context = (tls_context or ssl.create_default_context()) if security in ("tls", "starttls") else None
    client: _PinnedIMAP | None = None
    last: Exception | None = None
    for ip in ips:
        client = _PinnedIMAP(str(ip), port, host, context if security == "tls" else None, timeout)
        try:
            await client.wait_hello_from_server()
            break
        except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
            last, client = exc, None
    if client is None:
        raise NodeTemporaryError(f"could not connect to the IMAP server {host}:{port}: {last or 'no address'}")
    try:
        if security == "starttls":
            await _starttls(client, host, context)
        resp = await client.login(str(fields.get("username") or ""), str(fields.get("password") or ""))
        if resp.result != "OK":
            raise NodeConfigError(f"the IMAP server refused the login of {fields.get('username')!r}: {_text(resp)}",
                                  pointer="/credential")
        resp = await client.select(_quote(mailbox))
        if resp.result != "OK":
            raise NodeConfigError(f"cannot open mailbox {mailbox!r}: {_text(resp)}", pointer="/mailbox")
        lines = b"\n".join(bytes(l) for l in resp.lines)
        validity = _UIDVALIDITY.search(lines)
        nxt = _UIDNEXT.search(lines)
        return Mailbox(client, int(validity.group(1)) if validity else 0, int(nxt.group(1)) if nxt else None)
    except (NodeConfigError, NodeTemporaryError):
        await Mailbox(client, 0, None).close()
        raise
    except (OSError, asyncio.TimeoutError, aioimaplib.Abort, aioimaplib.Error) as exc:
        await Mailbox(client, 0, None).close()
        raise NodeTemporaryError(f"IMAP server {host}:{port}: {type(exc).__name__}: {exc}") from None


async def _starttls(client: _PinnedIMAP, host: str, context: ssl.SSLContext | None) -> None:
    proto = client.protocol
    if "STARTTLS" not in proto.capabilities:
        raise NodeConfigError(f"the IMAP server {host} does not offer STARTTLS", pointer="/credential")
    resp = await asyncio.wait_for(proto.execute(Command("STARTTLS", proto.new_tag(), loop=proto.loop)), client.timeout)
    if resp.result != "OK":
        raise NodeTemporaryError(f"STARTTLS refused: {_text(resp)}")
    loop = asyncio.get_running_loop()
    proto.transport = await loop.start_tls(proto.transport, proto, context, server_hostname=host)
    await asyncio.wait_for(proto.capability(), client.timeout)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _addresses(msg: EmailMessage, name: str) -> list[dict[str, str]]:
    values = [str(v) for v in msg.get_all(name, [])]
    return [{"name": n, "address": a} for n, a in getaddresses(values) if a]


def parse_message(raw: bytes) -> tuple[dict[str, Any], list[Attachment]]:
    """The run payload of a message (attachments listed by the caller) and its attachments."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    attachments = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True) or b""
        attachments.append(Attachment(part.get_filename() or "", part.get_content_type(), data))
    date = None
    if msg["date"]:
        try:
            date = parsedate_to_datetime(str(msg["date"])).isoformat()
        except (TypeError, ValueError):
            date = str(msg["date"])
    sender = _addresses(msg, "from")
    payload = {
        "from": sender[0] if sender else None,
        "to": _addresses(msg, "to"),
        "cc": _addresses(msg, "cc"),
        "reply_to": _addresses(msg, "reply-to"),
        "subject": str(msg["subject"] or ""),
        "date": date,
        "message_id": str(msg["message-id"] or "").strip(),
        "in_reply_to": str(msg["in-reply-to"] or "").strip(),
        "text": text.get_content()[:_TEXT_MAX] if text is not None else "",
        "html": html.get_content()[:_TEXT_MAX] if html is not None else "",
    }
    return payload, attachments
