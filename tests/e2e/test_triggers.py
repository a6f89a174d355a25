"""The canvas's Triggers panel, as people use it: a schedule set from the cron helper shows its next
five fire times; a webhook shows its URL and its secret once, a test delivery lands in its deliveries;
a co-editor's panel shows a new schedule without a reload; a viewer reads without controls; and
the panel has no critical or serious axe-core violation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.backend.conftest import TenantFixture
from tests.backend.triggers.conftest import simple_graph
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import axe_violations
from tests.e2e.test_editor import eventually, open_canvas


async def open_triggers(page: Any, server: LiveServer, workflow_id: str) -> Any:
    """The canvas, then the Triggers panel opened from the top bar with the keyboard."""
    await open_canvas(page, server, workflow_id)
    await page.get_by_test_id("triggers-button").focus()
    await page.keyboard.press("Enter")
    panel = page.get_by_test_id("triggers-panel")
    await panel.wait_for()
    return panel


async def test_a_schedule_shows_its_next_five_fire_times(sign_in, server: LiveServer, tenant: TenantFixture,
                                                         make_workflow) -> None:
    """Weekdays at 09:30 in Paris: the form previews five fire times, a bad cron is refused next to its field,
    and the saved schedule lists the same five times."""
    wf = await make_workflow(simple_graph())
    page = await sign_in(tenant.editor)
    await open_triggers(page, server, wf["id"])
    await page.get_by_test_id("schedule-add").click()
    await page.get_by_test_id("schedule-cron").fill("61 * * * *")
    problem = page.get_by_test_id("schedule-problem")
    await problem.wait_for()
    assert await problem.get_attribute("data-field") == "cron"
    assert await page.get_by_test_id("schedule-cron").get_attribute("aria-invalid") == "true"

    await page.get_by_test_id("schedule-preset").select_option("weekdays")
    await page.get_by_test_id("schedule-time").fill("09:30")
    await page.get_by_test_id("schedule-timezone").fill("Europe/Paris")
    assert await page.get_by_test_id("schedule-cron").input_value() == "30 9 * * 1-5"
    times = page.get_by_test_id("schedule-preview-time")
    await eventually(lambda: _count_is(times, 5), "the preview lists five fire times")
    shown = await times.all_inner_texts()
    assert all("09:30" in t for t in shown) and not any(day in t for t in shown for day in ("Sat", "Sun")), shown
    await page.get_by_test_id("schedule-save").click()

    row = page.get_by_test_id("schedule-row")
    await row.wait_for()
    assert "Weekdays at 09:30" in await row.inner_text()
    await row.locator("summary").click()
    assert await page.get_by_test_id("schedule-next").all_inner_texts() == shown
    async with httpx.AsyncClient(base_url=server.url) as c:
        saved = (await c.get(f"/api/workflows/{wf['id']}/schedules", headers=tenant.editor.headers)).json()
    assert [(s["cron"], s["timezone"], s["enabled"]) for s in saved] == [("30 9 * * 1-5", "Europe/Paris", True)]
    paris = [datetime.fromisoformat(t).astimezone(ZoneInfo("Europe/Paris")) for t in saved[0]["next_runs"]]
    assert all((t.hour, t.minute) == (9, 30) and t.isoweekday() <= 5 for t in paris)


async def _count_is(locator: Any, n: int) -> bool:
    return await locator.count() == n


async def test_a_webhook_shows_its_secret_once_and_a_test_delivery(sign_in, server: LiveServer, tenant: TenantFixture,
                                                                   make_workflow) -> None:
    """A new webhook shows its URL and its secret, a rotation shows the new one; after a reload only the
    secret's hint is left. A test delivery answers 202 and appears in the deliveries list with its run's status."""
    wf = await make_workflow(simple_graph("trigger.webhook"))
    page = await sign_in(tenant.editor)
    await open_triggers(page, server, wf["id"])
    await page.get_by_test_id("triggers-tab-webhooks").click()
    await page.get_by_test_id("webhook-source").select_option("draft")
    await page.get_by_test_id("webhook-add").click()
    row = page.get_by_test_id("webhook-row")
    await row.wait_for()
    hook_id = await row.get_attribute("data-webhook-id")
    url = await page.get_by_test_id(f"webhook-url-{hook_id}-value").input_value()
    assert url == f"{server.url}/hooks/{hook_id}"
    secret = await page.get_by_test_id("webhook-secret-value").input_value()
    assert secret.startswith("whsec_")

    await page.get_by_test_id("webhook-test-body").fill('{"order": 42}')
    await page.get_by_test_id("webhook-test-send").click()
    result = page.get_by_test_id("webhook-test-result")
    await result.wait_for()
    assert await result.get_attribute("data-status") == "202"
    delivery = page.locator('[data-testid="delivery-row"][data-status="succeeded"]')
    await delivery.wait_for()
    run_id = await delivery.get_attribute("data-run-id")
    async with httpx.AsyncClient(base_url=server.url) as c:
        run = (await c.get(f"/api/runs/{run_id}", headers=tenant.editor.headers)).json()
    assert run["trigger"] == "webhook" and run["input"]["body"] == {"order": 42}

    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_test_id("webhook-rotate").click()
    await eventually(lambda: _secret_is_not(page, secret), "the rotated secret is shown")
    rotated = await page.get_by_test_id("webhook-secret-value").input_value()
    assert rotated.startswith("whsec_") and rotated != secret

    await page.reload()
    await open_triggers(page, server, wf["id"])
    await page.get_by_test_id("triggers-tab-webhooks").click()
    await page.get_by_test_id("webhook-row").wait_for()
    assert await page.get_by_test_id("webhook-secret").count() == 0
    assert secret not in await page.content() and rotated not in await page.content()
    await page.get_by_test_id("delivery-row").wait_for()


async def _secret_is_not(page: Any, old: str) -> bool:
    shown = page.get_by_test_id("webhook-secret-value")
    return await shown.count() == 1 and await shown.input_value() != old


async def test_a_co_editor_sees_a_new_schedule_appear(sign_in, server: LiveServer, tenant: TenantFixture,
                                                      make_workflow) -> None:
    """Two people on one workflow with the panel open: one adds a schedule, the other's panel shows it without a reload."""
    wf = await make_workflow(simple_graph())
    a, b = await sign_in(tenant.owner), await sign_in(tenant.editor)
    await open_triggers(a, server, wf["id"])
    await open_triggers(b, server, wf["id"])
    await b.get_by_text("No schedule").wait_for()
    await a.get_by_test_id("schedule-add").click()
    await a.get_by_test_id("schedule-preset").select_option("hourly")
    await a.get_by_test_id("schedule-timezone").fill("UTC")
    await a.get_by_test_id("schedule-save").click()
    await a.get_by_test_id("schedule-row").wait_for()
    row = b.get_by_test_id("schedule-row")
    await row.wait_for()
    assert "Every hour" in await row.inner_text()


async def test_a_viewer_reads_triggers_without_controls(sign_in, server: LiveServer, tenant: TenantFixture,
                                                        make_workflow) -> None:
    """A viewer sees the schedules but no add, edit, delete or on/off control."""
    wf = await make_workflow(simple_graph())
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post(f"/api/workflows/{wf['id']}/schedules", json={"cron": "@daily"}, headers=tenant.editor.headers)
        assert r.status_code == 201, r.text
    page = await sign_in(tenant.viewer)
    await open_triggers(page, server, wf["id"])
    await page.get_by_test_id("schedule-row").wait_for()
    await page.get_by_test_id("triggers-read-only").wait_for()
    for control in ("schedule-add", "schedule-edit", "schedule-delete"):
        assert await page.get_by_test_id(control).count() == 0, control
    assert await page.get_by_test_id("schedule-toggle").is_disabled()
    await page.get_by_test_id("triggers-tab-webhooks").click()
    await page.get_by_test_id("webhooks-section").wait_for()
    assert await page.get_by_test_id("webhook-add").count() == 0


async def test_the_triggers_panel_has_no_serious_axe_violation(sign_in, server: LiveServer, tenant: TenantFixture,
                                                               make_workflow) -> None:
    """The panel's three tabs, the schedule form with its preview, and a webhook with its secret and a test
    result pass axe-core without a critical or serious violation."""
    other = await make_workflow(simple_graph(), name="next")
    wf = await make_workflow(simple_graph("trigger.webhook"))
    page = await sign_in(tenant.editor)
    await open_triggers(page, server, wf["id"])
    await page.get_by_test_id("schedule-add").click()
    await eventually(lambda: _count_is(page.get_by_test_id("schedule-preview-time"), 5), "the preview is shown")
    await _assert_clean(page, "schedules with the form")
    await page.get_by_test_id("schedule-save").click()
    await page.get_by_test_id("schedule-row").wait_for()
    await _assert_clean(page, "schedules listed")
    await page.get_by_test_id("triggers-tab-webhooks").click()
    await page.get_by_test_id("webhook-source").select_option("draft")
    await page.get_by_test_id("webhook-add").click()
    await page.get_by_test_id("webhook-secret").wait_for()
    await page.get_by_test_id("webhook-test-send").click()
    await page.get_by_test_id("webhook-test-result").wait_for()
    await page.get_by_test_id("delivery-row").wait_for()
    await _assert_clean(page, "webhooks with a secret and a test result")
    await page.get_by_test_id("triggers-tab-chains").click()
    await page.get_by_test_id("chain-target").select_option(other["id"])
    await page.get_by_test_id("chain-add").click()
    await page.get_by_test_id("chain-row").wait_for()
    await _assert_clean(page, "chains")


async def _assert_clean(page: Any, screen: str) -> None:
    found = await axe_violations(page, "[data-testid='triggers-panel']")
    assert not found, f"{screen}:\n  " + "\n  ".join(found)
