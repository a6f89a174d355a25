"""The Outbox screen: mail a run sent while no provider is configured, as the editor shows it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.test_editor import eventually

EMAIL_SEND = Path(__file__).resolve().parents[1] / "nodes" / "workflows" / "email_send.json"
# A script in the mail's HTML must stay inert in the editor (the frame is sandboxed).
SCRIPT = "<script>document.body.setAttribute('data-ran', 'yes')</script>"


async def run_to_the_end(server: LiveServer, tenant: TenantFixture, workflow_id: str, payload: dict[str, Any]) -> str:
    async with httpx.AsyncClient(base_url=server.url, timeout=10, headers=tenant.editor.headers) as c:
        r = await c.post(f"/api/workflows/{workflow_id}/runs", json={"input": payload})
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]

        async def finished() -> str | None:
            status = (await c.get(f"/api/runs/{run_id}")).json()["status"]
            return status if status in ("succeeded", "failed", "cancelled") else None
        assert await eventually(finished, "the run finished", timeout=30) == "succeeded"
        return run_id


async def test_mail_a_run_sent_shows_in_the_outbox_with_its_parts(sign_in, server, tenant: TenantFixture,
                                                                   make_workflow) -> None:
    """A workflow sends mail with no provider set up; the Outbox lists it (to, subject, run) and opening it shows
    the headers, the HTML part in a sandboxed frame where its script does not run, and the text part."""
    case = json.loads(EMAIL_SEND.read_text())
    graph = case["graph"]
    compose = next(n for n in graph["nodes"] if n["id"] == "compose")
    compose["config"]["html"] = compose["config"]["html"].replace("</body>", SCRIPT + "</body>")
    wf = await make_workflow(graph, name="mail")
    run_id = await run_to_the_end(server, tenant, wf["id"], {"offer": "20% off", "recipients": [{"email": "ann@example.com", "name": "Ann"}]})

    page = await sign_in(tenant.editor)
    await page.get_by_test_id("open-outbox").click()
    await page.get_by_test_id("outbox-list").wait_for()
    row = page.locator('[data-testid^="outbox-row-"]', has_text="20% off for Ann")
    assert await row.count() == 1
    assert "ann@example.com" in await row.inner_text()
    assert run_id[:8] in await row.inner_text()

    await row.click()
    await page.get_by_test_id("outbox-message").wait_for()
    assert await page.get_by_test_id("outbox-subject").inner_text() == "20% off for Ann"
    headers = await page.get_by_test_id("outbox-headers").inner_text()
    assert "news@shop.example" in headers and "ann@example.com" in headers and run_id in headers
    assert page.url.endswith("/outbox/" + (await row.get_attribute("data-testid"))[len("outbox-row-"):])

    frame_el = page.get_by_test_id("outbox-html")
    assert await frame_el.get_attribute("sandbox") == ""
    assert SCRIPT in await frame_el.get_attribute("srcdoc")  # the script reached the screen, inert
    frame = page.frame_locator('[data-testid="outbox-html"]')
    assert await frame.locator("h1").inner_text() == "Hi Ann"
    assert await frame.locator("body").get_attribute("data-ran") is None
    text = await page.get_by_test_id("outbox-text").inner_text()
    assert "Hi Ann" in text and "20% off" in text and "<h1>" not in text

    # the message links back to the workflow whose run sent it
    await page.get_by_test_id("outbox-workflow").click()
    await page.get_by_test_id("editor").wait_for()
    assert page.url.endswith(f"/workflows/{wf['id']}")
