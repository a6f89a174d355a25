"""The template gallery in Chromium: open the gallery, pick a template, fill its parameters,
the new workflow opens on the canvas, run it, it succeeds and its mail is in the outbox."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer


async def test_import_a_template_through_its_form_and_run_it(sign_in: Any, server: LiveServer,
                                                             tenant: TenantFixture, tmp_path: Path):
    page = await sign_in(tenant.editor)
    await page.get_by_test_id("open-templates").click()
    await page.get_by_test_id("template-card-user-onboarding").wait_for()
    assert await page.locator('[data-testid^="template-card-"]').count() >= 6

    # search and filters narrow the list
    await page.get_by_test_id("template-search").fill("campaign")
    await page.locator('[data-testid="template-card-user-onboarding"]').wait_for(state="detached")
    assert await page.locator('[data-testid^="template-card-"]').count() == 1
    await page.get_by_test_id("template-search").fill("")
    await page.get_by_test_id("template-category").select_option("onboarding")
    await page.get_by_test_id("template-card-user-onboarding").click()

    # the read-only preview and the parameter form from the schema
    await page.get_by_test_id("template-preview").locator(".react-flow__node").first.wait_for()
    assert await page.get_by_test_id("template-preview").locator(".react-flow__node").count() == 7
    shot = Path(os.environ.get("MAILY_E2E_SHOTS", tmp_path)) / "template-gallery.png"
    await page.screenshot(path=str(shot))

    await page.get_by_test_id("param-sender").fill("not an address")
    await page.get_by_test_id("template-import").click()
    await page.get_by_test_id("param-sender-error").wait_for()
    await page.get_by_test_id("param-sender").fill("Acme <hello@acme.example>")
    await page.get_by_test_id("param-product_name").fill("Acme Cloud")
    await page.get_by_test_id("template-import-name").fill("Acme onboarding")
    await page.get_by_test_id("template-import").click()

    # the draft opens on the canvas, live
    await page.wait_for_url(re.compile(r"/workflows/[0-9a-f]{32}$"))
    workflow_id = page.url.rsplit("/", 1)[1]
    await page.locator('[data-testid="collab-status"][data-status="live"]').wait_for()
    await page.locator('[data-testid="node-welcome"]').wait_for()
    assert await page.get_by_test_id("workflow-name").input_value() == "Acme onboarding"
    await page.get_by_test_id("template-save").wait_for()

    # run it with the trigger's sample input: it succeeds
    await page.get_by_test_id("run-button").click()
    await page.get_by_test_id("run-dialog").wait_for()
    await page.get_by_test_id("run-start").click()
    await page.locator('[data-testid="run-bar"][data-status="succeeded"]').wait_for(timeout=30_000)

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        outbox = (await c.get("/api/email/outbox", headers=tenant.editor.headers)).json()
        wf = (await c.get(f"/api/workflows/{workflow_id}", headers=tenant.editor.headers)).json()
    assert [(m["sender"], m["recipient"]) for m in outbox] == [("Acme <hello@acme.example>",
                                                               "Ada Lovelace <ada@example.com>")]
    assert "Acme Cloud" in outbox[0]["subject"]
    settings = next(n for n in wf["graph"]["nodes"] if n["id"] == "settings")
    assert settings["config"]["values"]["product"] == "Acme Cloud"


async def test_pasted_json_with_an_unknown_node_type_is_refused(sign_in: Any, tenant: TenantFixture):
    page = await sign_in(tenant.editor)
    await page.goto(page.url.rstrip("/") + "/templates")
    await page.get_by_test_id("template-paste-toggle").click()
    await page.get_by_test_id("template-paste-input").fill(
        '{"format_version": 2, "id": "x", "version": 1, "title": "X", "graph": {"schema_version": 1,'
        ' "nodes": [{"id": "a", "type": "system.exec", "config": {"cmd": "id"}}]}}')
    await page.get_by_test_id("template-paste-submit").click()
    error = page.get_by_test_id("template-error")
    await error.wait_for()
    assert "system.exec" in await error.inner_text()
