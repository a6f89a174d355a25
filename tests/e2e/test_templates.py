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


async def test_a_template_update_with_conflicts_lets_the_user_choose_per_field(sign_in: Any, server: LiveServer,
                                                                              tenant: TenantFixture):
    """The draft and the new template version changed the same two fields: the update panel lists
    both with my value and the template's; I take the template's for one, keep mine for the other,
    merge, and the draft has exactly that."""
    from tests.backend.templates.test_merge_choices import _conflicting_update
    from tests.backend.templates.test_templates_api import _node

    h = tenant.editor.headers
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        wf = {"id": await _conflicting_update(c, tenant)}

    page = await sign_in(tenant.editor)
    await page.goto(f"{server.url}/workflows/{wf['id']}")
    await page.locator('[data-testid="collab-status"][data-status="live"]').wait_for()
    panel = page.get_by_test_id("template-update-conflicts")
    await panel.wait_for()
    rows = panel.locator('[data-testid^="template-conflict-"][data-pointer]')
    assert await rows.count() == 2
    by_pointer = {await rows.nth(i).get_attribute("data-pointer"): i for i in range(2)}
    who, label = by_pointer["/nodes/say/config/values/who"], by_pointer["/nodes/say/label"]
    assert await page.get_by_test_id(f"template-conflict-{who}-ours").inner_text() == "{{ trigger.mine }}"
    assert await page.get_by_test_id(f"template-conflict-{who}-theirs-value").inner_text() == "{{ trigger.theirs }}"
    assert "config.values.who" in await rows.nth(who).inner_text() and "say" in await rows.nth(who).inner_text()
    assert await page.get_by_test_id(f"template-conflict-{label}-mine").is_checked()      # mine by default

    await page.get_by_test_id(f"template-conflict-{who}-theirs").check()
    await page.get_by_test_id("template-update-merge").click()
    result = page.get_by_test_id("template-merge-result")
    await result.wait_for()
    assert "1 took the template’s value, 1 kept yours" in await result.inner_text()
    await page.get_by_test_id("template-update").wait_for(state="detached")               # no update left

    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        say = _node((await c.get(f"/api/workflows/{wf['id']}", headers=h)).json()["graph"], "say")
    assert say["config"]["values"]["who"] == "{{ trigger.theirs }}" and say["label"] == "My label"


async def test_a_template_update_that_adds_a_schedule_shows_it_and_creates_it_off(sign_in: Any, server: LiveServer,
                                                                                  tenant: TenantFixture, e2e_db) -> None:
    """The new version declares a schedule: the update panel says so, and after the merge the bar shows it
    created (off) and the workflow has it."""
    from tests.backend.templates.test_template_triggers import TestUpdateTriggers

    rows = TestUpdateTriggers()
    hook = {"type": "webhook", "description": "from the CRM"}
    tid = await rows._row(e2e_db, tenant, 1, [hook])
    h = tenant.editor.headers
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        wf = (await c.post(f"/api/templates/{tid}/import", json={"params": {"cron": "0 5 * * *"}}, headers=h)).json()
    await rows._row(e2e_db, tenant, 2, [hook, {"type": "schedule", "cron": {"$param": "cron"}, "timezone": "UTC"}], tid)

    page = await sign_in(tenant.editor)
    await page.goto(f"{server.url}/workflows/{wf['id']}")
    await page.locator('[data-testid="collab-status"][data-status="live"]').wait_for()
    listed = page.get_by_test_id("template-update-triggers")
    await listed.wait_for()
    assert "+ schedule 0 5 * * * (UTC), created off" in await listed.inner_text()
    await page.get_by_test_id("template-update-merge").click()
    created = page.get_by_test_id("template-merge-triggers")
    await created.wait_for()
    assert "+ schedule 0 5 * * * (UTC)" in await created.inner_text()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        schedules = (await c.get(f"/api/workflows/{wf['id']}/schedules", headers=h)).json()
    assert [(s["cron"], s["enabled"]) for s in schedules] == [("0 5 * * *", False)]
