"""Outbound HTTP for nodes, guarded against SSRF.

Workflows are written by users, so a URL in a node is untrusted: without a guard it could
read cloud metadata (169.254.169.254), the app's own admin API on 127.0.0.1, or hosts on
the private network. SafeHttpClient therefore:

* accepts only http/https and refuses odd numeric host forms (2130706433, 0x7f000001,
  017700000001, 127.1) that different parsers read differently;
* resolves the host itself and refuses it when ANY address is not globally routable
  (loopback, private, link-local, CGNAT, unspecified, multicast, reserved, and IPv6
  forms embedding such an IPv4: mapped ::ffff:a.b.c.d, 6to4, Teredo, NAT64);
* connects to the exact address it checked (URL rewritten to the IP; Host header and TLS
  SNI/cert check keep the hostname), so DNS cannot answer differently a second time;
* follows redirects itself, re-checking every hop;
* caps total time and the (decompressed) response size while streaming.

guarded_transport() applies the same check, per request and per redirect hop, inside httpx
clients we do not drive ourselves (the AI providers' SDKs).

Hosts in allowed_hosts (MAILY_HTTP_ALLOWED_HOSTS; hostnames, IPs or CIDR networks) skip
the private-address check: operators use it for internal APIs, tests for loopback servers.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import urljoin

import httpx

from nodes.sdk import NodeConfigError, NodeTemporaryError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_REDIRECTS = {301, 302, 303, 307, 308}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_MAX_POOLS = 32


class BlockedAddressError(NodeConfigError):
    """The target URL points somewhere workflows may not reach."""


@dataclass
class SafeResponse:
    status: int
    headers: dict[str, str]
    body_bytes: bytes
    url: str
    elapsed_ms: float

    def text(self) -> str:
        ctype = self.headers.get("content-type", "")
        charset = ctype.split("charset=")[-1].split(";")[0].strip() if "charset=" in ctype else "utf-8"
        try:
            return self.body_bytes.decode(charset, errors="replace")
        except LookupError:
            return self.body_bytes.decode("utf-8", errors="replace")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    out = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo:
        out.extend(ip.teredo)
    if ip in _NAT64:
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses (and none hidden inside IPv6)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if any(not is_public_address(v4) for v4 in _embedded_ipv4(ip)):
            return False
    bad = (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
           or ip.is_reserved or ip.is_unspecified or not ip.is_global)
    return not bad and not (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)


def _literal_ip(host: str) -> IPAddress | None:
    """The IP a host string denotes, or None for a name. Refuses non-canonical IPv4 forms."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        pass
    try:
        packed = socket.inet_aton(host)  # accepts 127.1, 0x7f000001, 017700000001, 2130706433
    except OSError:
        return None
    normal = socket.inet_ntoa(packed)
    raise BlockedAddressError(
        f"host {host!r} is a non-standard numeric address (it means {normal}); write the address as {normal}",
        pointer="/url",
    )


def _is_allowed(host: str, ips: Iterable[IPAddress], allowed_hosts: frozenset[str]) -> bool:
    if host.lower() in allowed_hosts:
        return True
    for entry in allowed_hosts:
        try:
            net = ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            continue
        if any(ip in net for ip in ips):
            return True
    return False


async def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = _literal_ip(host)
    if literal is not None:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        if e.errno in (socket.EAI_AGAIN, getattr(socket, "EAI_SYSTEM", None)):
            raise NodeTemporaryError(f"could not resolve {host!r} right now: {e.strerror}") from None
        raise NodeConfigError(f"host {host!r} does not resolve: {e.strerror}", pointer="/url") from None
    ips: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if ip not in ips:
            ips.append(ip)
    if not ips:
        raise NodeConfigError(f"host {host!r} has no address", pointer="/url")
    return ips


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as e:
        raise NodeConfigError(f"invalid URL {url!r}: {e}", pointer="/url") from None
    if parsed.scheme not in ("http", "https"):
        raise BlockedAddressError(f"only http and https URLs are allowed, not {parsed.scheme or 'no scheme'!r}", pointer="/url")
    if not parsed.host:
        raise NodeConfigError(f"URL {url!r} has no host", pointer="/url")
    return parsed


async def _check(parsed: httpx.URL, allowed_hosts: frozenset[str]) -> list[IPAddress]:
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    ips = await _resolve(host, port)
    if _is_allowed(host, ips, allowed_hosts):
        return ips
    blocked = [ip for ip in ips if not is_public_address(ip)]
    if blocked:
        raise BlockedAddressError(
            f"{host} resolves to {blocked[0]}, a private or reserved address that workflows may not reach "
            "(an operator can allow it with MAILY_HTTP_ALLOWED_HOSTS)",
            pointer="/url",
        )
    return ips


async def check_url(url: str, allowed_hosts: frozenset[str] = frozenset()) -> list[IPAddress]:
    """The addresses url may be fetched from; raises BlockedAddressError when it may not."""
    return await _check(_parse(url), frozenset(h.lower() for h in allowed_hosts))


def allowed_hosts_from_env() -> frozenset[str]:
    raw = os.environ.get("MAILY_HTTP_ALLOWED_HOSTS", "")
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


@dataclass
class SafeHttpClient:
    allowed_hosts: frozenset[str] = frozenset()
    timeout_s: float = 30.0
    max_response_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    # One pooled httpx client per hostname: connections are keyed by the pinned IP, and a
    # TLS connection verified for one name must never be reused for another name on that IP.
    _clients: dict[str, httpx.AsyncClient] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.allowed_hosts = frozenset(h.lower() for h in self.allowed_hosts)

    @classmethod
    def from_env(cls) -> "SafeHttpClient":
        """Built from MAILY_HTTP_ALLOWED_HOSTS / MAILY_HTTP_TIMEOUT_S / MAILY_HTTP_MAX_RESPONSE_BYTES."""
        return cls(
            allowed_hosts=allowed_hosts_from_env(),
            timeout_s=float(os.environ.get("MAILY_HTTP_TIMEOUT_S", 30)),
            max_response_bytes=int(os.environ.get("MAILY_HTTP_MAX_RESPONSE_BYTES", 10 * 1024 * 1024)),
        )

    async def _http(self, host: str) -> httpx.AsyncClient:
        client = self._clients.pop(host, None)
        if client is None:
            if len(self._clients) >= _MAX_POOLS:  # drop the least recently used pool
                await self._clients.pop(next(iter(self._clients))).aclose()
            # trust_env=False: an HTTP(S)_PROXY from the environment would bypass the pinning.
            client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=self.timeout_s)
        self._clients[host] = client  # re-inserted last: dict order is the LRU order
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def __aenter__(self) -> "SafeHttpClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                      params: dict[str, Any] | None = None, json: Any = None,
                      content: bytes | str | None = None) -> SafeResponse:
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_s):
                resp = await self._follow(method.upper(), url, dict(headers or {}), params, json, content)
        except TimeoutError:
            raise NodeTemporaryError(f"{method.upper()} {url} took longer than {self.timeout_s:g}s") from None
        resp.elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        return resp

    async def _follow(self, method: str, url: str, headers: dict[str, str], params: Any,
                      json: Any, content: Any) -> SafeResponse:
        current = _parse(url)
        if params:
            current = current.copy_merge_params({k: v for k, v in params.items() if v is not None})
        for _hop in range(self.max_redirects + 1):
            ips = await _check(current, self.allowed_hosts)
            status, resp_headers, body = await self._send_pinned(method, current, ips, headers, json, content)
            location = resp_headers.get("location")
            if status not in _REDIRECTS or not location:
                return SafeResponse(status, resp_headers, body, str(current), 0.0)
            nxt = _parse(urljoin(str(current), location))
            if status == 303 or (status in (301, 302) and method == "POST"):
                method = "GET" if method != "HEAD" else method
                json = content = None
                headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
            if (nxt.scheme, nxt.host, nxt.port) != (current.scheme, current.host, current.port):
                # never hand credentials to another origin
                headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
            current = nxt
        raise NodeConfigError(f"more than {self.max_redirects} redirects starting at {url}", pointer="/url")

    async def _send_pinned(self, method: str, url: httpx.URL, ips: list[IPAddress], headers: dict[str, str],
                           json: Any, content: Any) -> tuple[int, dict[str, str], bytes]:
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        req_headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        req_headers["Host"] = url.netloc.decode("ascii")
        http = await self._http(url.host)
        try:
            for n, ip in enumerate(ips):  # every address was checked; try them in DNS order
                request = http.build_request(method, url.copy_with(host=str(ip)), headers=req_headers,
                                             json=json, content=content, extensions=extensions)
                try:
                    response = await http.send(request, stream=True)
                    break
                except httpx.ConnectError:
                    if n == len(ips) - 1:
                        raise
        except httpx.TimeoutException:
            raise NodeTemporaryError(f"{method} {url} timed out") from None
        except httpx.TransportError as e:
            raise NodeTemporaryError(f"{method} {url} failed: {type(e).__name__}: {e}") from None
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_response_bytes:
                raise self._too_big(url)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise self._too_big(url)
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise NodeTemporaryError(f"{method} {url} timed out while reading the response") from None
        except (httpx.TransportError, httpx.DecodingError) as e:
            raise NodeTemporaryError(f"{method} {url}: reading the response failed: {e}") from None
        finally:
            await response.aclose()
        resp_headers: dict[str, str] = {}
        for k, v in response.headers.multi_items():  # repeated headers joined as RFC 9110 allows
            k = k.lower()
            resp_headers[k] = f"{resp_headers[k]}, {v}" if k in resp_headers else v
        return response.status_code, resp_headers, b"".join(chunks)

    def _too_big(self, url: httpx.URL) -> NodeConfigError:
        return NodeConfigError(f"response from {url.host} is larger than {self.max_response_bytes} bytes", pointer="/url")



class _Guarded:
    """The same guard as SafeHttpClient, as an httpx transport for clients we do not drive
    ourselves (the OpenAI and Anthropic SDKs, `http_client=`). Every request reaches it, each
    redirect hop too, so each is resolved, checked against `allowed_hosts` and sent to the
    checked address (Host header and TLS name keep the hostname): a redirect or a DNS answer
    that changed since the base URL was checked cannot lead to a private address.

    `http` is the httpx-compatible module the client uses: the SDKs bring their own fork,
    `httpx2`, whose transports must be its own classes (guarded_transport builds one per module)."""

    http: Any = httpx

    def __init__(self, allowed_hosts: frozenset[str] = frozenset()) -> None:
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        # One pool per hostname, as in SafeHttpClient: a TLS connection verified for one name
        # is never reused for another name on the same address.
        self._pools: dict[str, Any] = {}

    async def _pool(self, host: str) -> Any:
        pool = self._pools.pop(host, None)
        if pool is None:
            if len(self._pools) >= _MAX_POOLS:
                await self._pools.pop(next(iter(self._pools))).aclose()
            pool = self.http.AsyncHTTPTransport()
        self._pools[host] = pool
        return pool

    async def handle_async_request(self, request: Any) -> Any:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise BlockedAddressError(f"only http and https URLs are allowed, not {url.scheme!r}", pointer="/url")
        ips = await _check(url, self.allowed_hosts)
        extensions = dict(request.extensions)
        if url.scheme == "https":
            extensions["sni_hostname"] = url.host
        headers = request.headers.copy()
        headers["Host"] = url.netloc.decode("ascii")
        pool = await self._pool(url.host)
        for n, ip in enumerate(ips):  # every address was checked; try them in DNS order
            pinned = self.http.Request(request.method, url.copy_with(host=str(ip)), headers=headers,
                                       stream=request.stream, extensions=extensions)
            try:
                return await pool.handle_async_request(pinned)
            except self.http.ConnectError:
                if n == len(ips) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - _check returns at least one address

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


@functools.cache
def _guarded_class(http: Any) -> type:
    return type("GuardedTransport", (_Guarded, http.AsyncBaseTransport), {"http": http})


def guarded_transport(allowed_hosts: frozenset[str] = frozenset(), http: Any = httpx) -> Any:
    """A transport of the httpx-compatible module `http` (httpx, or the SDKs' httpx2) that checks
    every connection like SafeHttpClient. Give its client trust_env=False: an HTTP(S)_PROXY from
    the environment would be mounted beside the transport and bypass it."""
    return _guarded_class(http)(allowed_hosts)
