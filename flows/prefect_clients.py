"""One Prefect client pair (async and sync) and one TLS context per Prefect API URL, shared
by every flow run of the process, and one result storage configured once.

Prefect's flow engine opens its clients through AsyncClientContext / SyncClientContext and
reuses the one a context already holds (prefect.client.orchestration.get_client). Without
one, each flow run built a new PrefectClient, and ResultStore.update_for_flow built a new
SyncPrefectClient just to ask the server for its default result storage (a blocking round
trip): every client construction made a TLS context (ssl.create_default_context, even for an
http:// URL), together about 57 % of the app's CPU under a burst of runs (docs/benchmarks.md;
Prefect PR #14986 and #19106 are about the same cost). Here each run's task points those
contexts at the process's shared clients, and flows get an explicit result storage, so
Prefect never looks the server default up (our flows and tasks persist no results).
"""

from __future__ import annotations

import contextlib
import ssl
from pathlib import Path
from typing import Any, Iterator


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
        from prefect.context import AsyncClientContext, SyncClientContext
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api_url}) as settings:
            # Settings with this URL, made once: a copy per run (temporary_settings) cost
            # about 17 % of a run's CPU in the profile
            self.settings = settings
            # model_construct: the contexts' __init__ would build a client of their own
            self.async_client = get_client(httpx_settings={"verify": tls})
            self.sync_client = get_client(sync_client=True, httpx_settings={"verify": tls})
        self.async_ctx = AsyncClientContext.model_construct(client=self.async_client)
        self.sync_ctx = SyncClientContext.model_construct(client=self.sync_client)
        self.opened = False

    async def open(self) -> None:
        if not self.opened:
            await self.async_client.__aenter__()
            self.sync_client.__enter__()
            self.opened = True

    async def close(self) -> None:
        if self.opened:
            self.opened = False
            await self.async_client.__aexit__(None, None, None)
            self.sync_client.__exit__(None, None, None)


class SharedPrefectClients:
    """The process's Prefect clients, one pair per API URL (the embedded server's URL changes
    when its supervisor restarts it on another port)."""

    def __init__(self, results_dir: Path | None = None) -> None:
        self._by_url: dict[str, _Clients] = {}
        self._tls: ssl.SSLContext | None = None
        self._results_dir = results_dir
        self._storage: Path | None = None

    @property
    def result_storage(self) -> Path:
        """A local path, set on each flow so Prefect skips its server lookup of a default
        storage; a Path needs no block saved on the server, and nothing is written there
        (our flows and tasks set persist_result=False)."""
        if self._storage is None:
            from prefect.settings import PREFECT_RESULTS_LOCAL_STORAGE_PATH

            self._storage = Path(self._results_dir or PREFECT_RESULTS_LOCAL_STORAGE_PATH.value())
        return self._storage

    async def clients_for(self, api_url: str) -> _Clients:
        """The open clients of api_url (built at the first call; a previous URL's are closed)."""
        clients = self._by_url.get(api_url)
        if clients is None:
            if self._tls is None:
                self._tls = _tls_context()
            clients = self._by_url[api_url] = _Clients(api_url, self._tls)
            for url in [u for u in self._by_url if u != api_url]:   # a restarted server's old address
                await self._by_url.pop(url).close()
        await clients.open()
        return clients

    @contextlib.asynccontextmanager
    async def use(self, api_url: str) -> Any:
        """Within the block (one run's task), Prefect's settings point at api_url and its
        get_client returns the shared clients."""
        from prefect.context import SettingsContext, get_settings_context

        clients = await self.clients_for(api_url)
        with SettingsContext(profile=get_settings_context().profile, settings=clients.settings), _context(clients):
            yield clients

    async def close(self) -> None:
        for url in list(self._by_url):
            await self._by_url.pop(url).close()


@contextlib.contextmanager
def _context(clients: _Clients) -> Iterator[None]:
    from prefect.context import AsyncClientContext, SyncClientContext

    # set directly, not entered: entering a shared context object from many tasks at once
    # would share its reset token; a task's own context copy is reset here
    async_token = AsyncClientContext.__var__.set(clients.async_ctx)
    sync_token = SyncClientContext.__var__.set(clients.sync_ctx)
    try:
        yield
    finally:
        SyncClientContext.__var__.reset(sync_token)
        AsyncClientContext.__var__.reset(async_token)
