"""Import from n8n in Chromium: paste an n8n export into the dialog on the workflow list, read the
report, open the draft and see its nodes and the canvas note of the node that was not mapped."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.backend.conftest import TenantFixture
from tests.backend.workflows.n8n_exports import ORDER_FLOW, node


async def test_paste_an_n8n_export_read_the_report_and_open_the_draft(sign_in: Any, tenant: TenantFixture):
    """An editor pastes an export, sees each node's status, and opens the new draft on the canvas."""
    export = {**ORDER_FLOW, "nodes": [*ORDER_FLOW["nodes"], node("Slack", "slack", 2, 1200, 0, text="hi")]}
    page = await sign_in(tenant.editor)
    await page.get_by_test_id("n8n-import-open-dialog").click()
    dialog = page.get_by_test_id("n8n-import-dialog")
    await dialog.wait_for()

    await page.get_by_test_id("n8n-import-input").fill("{not json")
    await page.get_by_test_id("n8n-import-submit").click()
    assert "Not JSON" in await page.get_by_test_id("n8n-import-error").inner_text()
    await page.get_by_test_id("n8n-import-input").fill(json.dumps({"name": "x"}))
    await page.get_by_test_id("n8n-import-submit").click()
    await page.get_by_text("`nodes` must be a list").wait_for()

    await page.get_by_test_id("n8n-import-input").fill(json.dumps(export))
    await page.get_by_test_id("n8n-import-submit").click()
    summary = page.get_by_test_id("n8n-import-summary")
    await summary.wait_for()
    assert "1 kept as notes" in await summary.inner_text()
    assert await page.get_by_test_id("n8n-report-Slack").get_attribute("data-status") == "unmapped"
    assert await page.get_by_test_id("n8n-report-Big order?").get_attribute("data-status") == "mapped"

    await page.get_by_test_id("n8n-import-open").click()
    await page.wait_for_url(re.compile(r"/workflows/[0-9a-f]{32}$"))
    await page.locator('[data-testid="collab-status"][data-status="live"]').wait_for()
    await page.locator('[data-testid="node-Big_order"]').wait_for()
    assert await page.get_by_test_id("workflow-name").input_value() == "Order triage"
    note = page.get_by_test_id("note-text-Slack")
    await note.wait_for()
    assert "Not imported from n8n: Slack (n8n-nodes-base.slack)" in await note.input_value()
