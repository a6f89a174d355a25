"""Helpers of the teams browser tests (tests/e2e/test_teams_*.py): signed-out browser contexts,
links read from the built-in outbox, an axe-core scan, and a server on an empty database."""

from __future__ import annotations

import email
import email.policy
import re
import secrets
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import httpx
import pytest

from backend.db.migrate import upgrade_async
from tests.backend.conftest import Member, create_pg_database, drop_pg_database
from tests.e2e.conftest import TIMEOUT_MS, VIEWPORT, LiveServer
from tests.e2e.test_editor import eventually

AXE = Path(__file__).resolve().parents[2] / "editor" / "node_modules" / "axe-core" / "axe.min.js"
# A password the server accepts: long, and in no common-password list.
GOOD_PASSWORD = "correct horse battery staple 42"


@pytest.fixture
async def open_page(browser: Any, request: pytest.FixtureRequest,
                    tmp_path: Path) -> AsyncIterator[Callable[[str], Awaitable[Any]]]:
    """`page = await open_page(url)`: a new, signed-out browser context at `url`. Pages are
    screenshotted into tmp_path when the test fails."""
    contexts: list[Any] = []
    pages: list[Any] = []
    errors: list[str] = []

    async def open_(url: str) -> Any:
        ctx = await browser.new_context(viewport=VIEWPORT)
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = await ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        pages.append(page)
        await page.goto(url)
        return page

    yield open_
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for i, page in enumerate(pages):
            try:
                await page.screenshot(path=str(tmp_path / f"failure-open-{i}.png"), full_page=True)
            except Exception as exc:  # noqa: BLE001 - a closed page cannot be shot
                print(f"no screenshot of page {i}: {exc}")
        if errors:
            print("page errors:\n  " + "\n  ".join(errors))
    for ctx in contexts:
        await ctx.close()


@pytest.fixture
async def empty_server(editor_dist: Path, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The app on a brand-new migrated PostgreSQL database with no user at all."""
    url = await create_pg_database()
    await upgrade_async(url)
    live = LiveServer(url, tmp_path / "empty-data", editor_dist)
    await live.start()
    yield live
    await live.stop()
    await drop_pg_database(url)


async def axe_violations(page: Any, within: str | None = None) -> list[str]:
    """The critical and serious axe-core violations of what the page shows now (or of the part
    matching the CSS selector `within`), one line each."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        # evaluated through the DevTools protocol: the app's CSP (script-src 'self') forbids a <script> tag
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;typeof window.axe")
    found = await page.evaluate("""async (within) => {
        const r = await window.axe.run(within ? { include: [[within]] } : document, { resultTypes: ['violations'] })
        return r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
          .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}`)
    }""", within)
    return list(found)


def token_of(url: str) -> str:
    """The token of an invitation or reset URL: its last path segment (the contract pins that)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def unique_email(label: str) -> str:
    """An address mail can be sent to: the `.test` addresses of the fixtures are refused by the
    mail headers' check (a special-use domain), `example.com` is not."""
    return f"{label}-{secrets.token_hex(4)}@example.com"


def _text_of(raw: str) -> str:
    """Every text part of a MIME message, decoded (quoted-printable links come out whole)."""
    msg = email.message_from_string(raw, policy=email.policy.default)
    parts = [p.get_content() for p in msg.walk() if p.get_content_maintype() == "text"]
    return "\n".join(str(p) for p in parts) + "\n" + raw


Reader = Callable[[str], Awaitable[Any]]


def read_as(server: LiveServer, member: Member) -> Reader:
    """GET a JSON document of the API with `member`'s API token."""
    async def get(path: str) -> Any:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
            r = await c.get(path, headers=member.headers)
            assert r.status_code == 200, r.text
            return r.json()
    return get


def read_in(page: Any) -> Reader:
    """GET a JSON document of the API from inside a signed-in page (its session cookie)."""
    async def get(path: str) -> Any:
        return await page.evaluate("""p => fetch(p, {credentials: 'same-origin'})
            .then(r => r.ok ? r.json() : Promise.reject(new Error(`${p}: HTTP ${r.status}`)))""", path)
    return get


async def link_from_outbox(read: Reader, recipient: str, route: str) -> str:
    """The token of a `/{route}/{token}` link mailed to `recipient`, read from the built-in outbox
    (GET /api/email/outbox) of the workspace `read` sees."""
    pattern = re.compile(rf"/{route}/([A-Za-z0-9_\-.~%]+)")

    async def find() -> str | None:
        for item in await read("/api/email/outbox?limit=50"):
            if item["recipient"].lower() != recipient.lower():
                continue
            m = pattern.search(_text_of((await read(f"/api/email/outbox/{item['id']}"))["raw"]))
            if m:
                return m.group(1)
        return None

    return await eventually(find, f"a /{route}/ link to {recipient} is in the outbox")


async def api_as(server: LiveServer, member: Member, method: str, path: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        return await c.request(method, path, headers=member.headers, **kw)


async def member_id(server: LiveServer, owner: Member, address: str) -> str:
    r = await api_as(server, owner, "GET", "/api/members")
    assert r.status_code == 200, r.text
    ids = [m["user_id"] for m in r.json()["items"] if m["email"].lower() == address.lower()]
    assert ids, f"{address} is not a member"
    return ids[0]


async def focused(page: Any) -> str | None:
    """The test id of the element that has the focus, if any."""
    return await page.evaluate("() => document.activeElement?.dataset?.testid ?? null")


async def tab_to(page: Any, testid: str, limit: int = 40) -> None:
    """Press Tab until the element with this test id has the focus."""
    for _ in range(limit):
        if await focused(page) == testid:
            return
        await page.keyboard.press("Tab")
    assert await focused(page) == testid, f"Tab never reached {testid}"
