"""One Prefect client and one TLS context per Prefect API URL, shared by every run's Prefect
record in the process (flows/prefect_record.py).

Built per use, a Prefect client makes a TLS context (ssl.create_default_context, even for an
http:// URL): with a client per flow run that was, with the per-run default-result-storage
lookup, about 57 % of the app's CPU under a burst of runs (docs/benchmarks.md; Prefect PR
#14986 and #19106 are about the same cost). Runs no longer go through Prefect's flow engine
at all, so one async client per URL is all the process needs.
"""

from __future__ import annotations

import ssl


def is_temporary_prefect_failure(exc: BaseException) -> bool:
    """The Prefect API busy or briefly unreachable (429, 502-504, a dropped connection):
    worth waiting for and trying again, never the user's mistake nor a bug of ours."""
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError

    if isinstance(exc, PrefectHTTPStatusError | httpx.HTTPStatusError):
        return exc.response.status_code in (408, 429, 502, 503, 504)
    return isinstance(exc, httpx.TransportError)


def _tls_context() -> ssl.SSLContext:
    """The context Prefect's clients would each build (certifi, or PREFECT_API_SSL_CERT_FILE;
    PREFECT_API_TLS_INSECURE_SKIP_VERIFY honoured), built once."""
    import certifi
    from prefect.settings import PREFECT_API_SSL_CERT_FILE, PREFECT_API_TLS_INSECURE_SKIP_VERIFY

    if PREFECT_API_TLS_INSECURE_SKIP_VERIFY.value():
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=PREFECT_API_SSL_CERT_FILE.value() or certifi.where())


class _Clients:
    def __init__(self, api_url: str, tls: ssl.SSLContext) -> None:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            self.async_client = get_client(httpx_settings={"verify": tls})
        self.opened = False

    async def open(self) -> None:
        if not self.opened:
            await self.async_client.__aenter__()
            self.opened = True

    async def close(self) -> None:
        if self.opened:
            self.opened = False
            await self.async_client.__aexit__(None, None, None)


class SharedPrefectClients:
    """The process's Prefect clients, one per API URL (the embedded server's URL changes when
    its supervisor restarts it on another port)."""

    def __init__(self) -> None:
        self._by_url: dict[str, _Clients] = {}
        self._tls: ssl.SSLContext | None = None

    async def clients_for(self, api_url: str) -> _Clients:
        """The open client of api_url (built at the first call; a previous URL's is closed)."""
        clients = self._by_url.get(api_url)
        if clients is None:
            if self._tls is None:
                self._tls = _tls_context()
            clients = self._by_url[api_url] = _Clients(api_url, self._tls)
            for url in [u for u in self._by_url if u != api_url]:   # a restarted server's old address
                await self._by_url.pop(url).close()
        await clients.open()
        return clients

    async def close(self) -> None:
        for url in list(self._by_url):
            await self._by_url.pop(url).close()
