"""Browser tests: Playwright (async API, in the session's event loop) driving Debian's Chromium
against the app served by uvicorn on a loopback port, with the built editor at `/`, on a fresh
migrated PostgreSQL database (the suite's real database in CI).

- `editor/dist/index.html` missing is a FAILURE telling you to run `make editor` (never a skip).
- PostgreSQL missing is a failure too (`create_pg_database` fails with how to start it).
- A failed test leaves a screenshot of every page it opened in its tmp path.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import httpx
import pytest

from backend.app import EDITOR_DIST, create_app
from backend.db.migrate import upgrade_async
from backend.db.session import Database
from backend.settings import Settings
from tests.backend.conftest import Member, TenantFixture, create_pg_database, drop_pg_database, make_tenant
from tests.live_server import free_port, serving

CHROMIUM = os.environ.get("MAILY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1440, "height": 900}
TIMEOUT_MS = 10_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# ---------------------------------------------------------------- the app


@pytest.fixture(scope="session")
def editor_dist() -> Path:
    if not (EDITOR_DIST / "index.html").is_file():
        pytest.fail(f"The browser tests need the built editor ({EDITOR_DIST}/index.html is missing): "
                    f"run `make editor` (or `cd editor && npm ci && npm run build`).", pytrace=False)
    return EDITOR_DIST


@pytest.fixture(scope="session")
async def e2e_db_url() -> AsyncIterator[str]:
    url = await create_pg_database()
    await upgrade_async(url)
    yield url
    await drop_pg_database(url)


@pytest.fixture(scope="session")
async def e2e_db(e2e_db_url: str) -> AsyncIterator[Database]:
    database = Database(e2e_db_url)
    yield database
    await database.dispose()


@pytest.fixture
async def tenant(e2e_db: Database) -> TenantFixture:
    """A new tenant per test with an owner, an editor and a viewer (each can sign in)."""
    return await make_tenant(e2e_db, "e2e")



class LiveServer:
    """The app under uvicorn in this event loop (tests/live_server.py `serving`). `restart()` stops it
    (the app's shutdown writes every open room) and serves a brand-new app on the same port and database."""

    def __init__(self, db_url: str, data_dir: Path, dist: Path, **settings: Any) -> None:
        self.db_url, self.data_dir, self.dist = db_url, data_dir, dist
        self.settings = settings   # more Settings fields (http_allowed_hosts="127.0.0.1" for a loopback API)
        self.port = free_port()
        self._serving: AsyncExitStack | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        settings = Settings(database_url=self.db_url, data_dir=self.data_dir, secret_key="e2e-secret-key",
                            prefect="never", prefect_at_start=False, **self.settings)
        app = create_app(settings, editor_dist=self.dist)
        stack = AsyncExitStack()
        await stack.enter_async_context(serving(app, port=self.port, timeout_graceful_shutdown=5))
        self._serving = stack

    async def stop(self) -> None:
        if self._serving is not None:
            await self._serving.aclose()
        self._serving = None

    async def restart(self) -> None:
        await self.stop()
        for _ in range(100):  # the port is free again at once (SO_REUSEADDR); be patient anyway
            try:
                await self.start()
                return
            except (OSError, SystemExit):
                await asyncio.sleep(0.1)
        await self.start()


@pytest.fixture
async def server(e2e_db_url: str, editor_dist: Path, tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = LiveServer(e2e_db_url, tmp_path / "data", editor_dist)
    await live.start()
    yield live
    await live.stop()


@pytest.fixture
async def api(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        yield c


@pytest.fixture
def make_workflow(api: httpx.AsyncClient, tenant: TenantFixture) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def make(graph: dict[str, Any] | None = None, name: str = "e2e") -> dict[str, Any]:
        body: dict[str, Any] = {"name": f"{name} {secrets.token_hex(2)}"}
        if graph is not None:
            body["graph"] = graph
        r = await api.post("/api/workflows", json=body, headers=tenant.editor.headers)
        assert r.status_code == 201, r.text
        return r.json()
    return make


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed at {CHROMIUM} for the browser tests: `make chromium` "
                    f"(apt-get install chromium) or set MAILY_CHROMIUM.", pytrace=False)
    pw = await async_playwright().start()
    b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    await b.close()
    await pw.stop()


@pytest.fixture
async def sign_in(browser: Any, server: LiveServer, request: pytest.FixtureRequest,
                  tmp_path: Path) -> AsyncIterator[Callable[[Member], Awaitable[Any]]]:
    """`page = await sign_in(member)`: a new browser context signed in through the sign-in screen,
    on the workflow list. Pages are screenshotted into tmp_path when the test fails."""
    contexts: list[Any] = []
    pages: list[tuple[str, Any]] = []
    errors: list[str] = []

    async def open_as(member: Member) -> Any:
        ctx = await browser.new_context(viewport=VIEWPORT)
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = await ctx.new_page()
        page.on("pageerror", lambda e: errors.append(f"{member.role}: {e}"))
        pages.append((f"{len(pages)}-{member.role}", page))
        await page.goto(server.url + "/")
        await page.get_by_test_id("signin-email").fill(member.email)
        await page.get_by_test_id("signin-password").fill(member.password)
        await page.get_by_test_id("signin-submit").click()
        await page.get_by_test_id("me").wait_for()
        return page

    yield open_as
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for name, page in pages:
            try:
                path = tmp_path / f"failure-{name}.png"
                await page.screenshot(path=str(path), full_page=True)
                print(f"screenshot: {path}")
            except Exception as exc:  # noqa: BLE001 - a closed page cannot be shot
                print(f"no screenshot of {name}: {exc}")
        if errors:
            print("page errors:\n  " + "\n  ".join(errors))
    for ctx in contexts:
        await ctx.close()
