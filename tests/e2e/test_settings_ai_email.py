"""The workspace settings screens for AI and email (/settings/ai, /settings/email), as owners,
editors and viewers use them, and their axe-core scans."""

from __future__ import annotations

import base64
from typing import Any

from backend.ai.store import DbStore
from backend.db.session import Database
from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import api_as, axe_violations, tab_to

AI_KEY = "sk-e2e-KEYMARKER-0042-wxyz"
SMTP_PASSWORD = "SMTP-PASSWORD-MARKER-77"


async def _ledger(db: Database, tenant_id: str) -> None:
    """Usage as the AI gateway records it: three calls on two models, today."""
    store = DbStore(db, "e2e-secret-key")
    try:
        for model, cost in (("gpt-4o-mini", 1200), ("gpt-4o-mini", 800), ("claude-3-5-haiku-latest", 3000)):
            await store.record({"tenant_id": tenant_id, "workflow_id": "wf", "run_id": "r", "node_id": "n",
                                "node_type": "ai.summarize", "provider": "openai" if "gpt" in model else "anthropic",
                                "model": model, "tokens_in": 40, "tokens_out": 8, "cost_micros": cost, "cached": False,
                                "latency_ms": 12.0, "ok": True, "error": None})
    finally:
        await store.aclose()


async def _suppress(server: LiveServer, tenant: TenantFixture, *emails: str) -> None:
    for address in emails:
        r = await api_as(server, tenant.editor, "POST", "/api/email/suppressions", json={"email": address})
        assert r.status_code == 201, r.text


async def _page_text(page: Any) -> str:
    """The page's markup plus every input's current value (a typed value is a property, not markup)."""
    values = await page.evaluate("() => [...document.querySelectorAll('input')].map(i => i.value).join('\\n')")
    return await page.content() + "\n" + values


async def test_an_owner_sets_a_key_and_a_budget_and_reads_usage_by_day_and_model(
        sign_in, server: LiveServer, tenant: TenantFixture, e2e_db: Database) -> None:
    """An owner sets an OpenAI key and sees only its last 4 characters, sets a budget and quota and sees
    them as this month's limits, and sees the usage chart with one table row per model of today."""
    await _ledger(e2e_db, tenant.id)
    page = await sign_in(tenant.owner)
    await page.goto(server.url + "/settings/ai")
    await page.get_by_test_id("ai-chain-empty").wait_for()   # a free workspace: the baseline only
    assert await page.get_by_test_id("ai-tier").inner_text() == "free"

    await page.get_by_test_id("ai-key-provider").select_option("openai")
    await page.get_by_label("API key").fill(AI_KEY)
    await page.get_by_test_id("ai-key-save").click()
    hint = page.get_by_test_id("ai-key-hint-openai")
    await hint.filter(has_text="wxyz").wait_for()
    assert (await hint.inner_text()).strip() == "…wxyz"
    assert await page.get_by_label("API key").input_value() == ""
    assert "KEYMARKER" not in await _page_text(page)
    r = await api_as(server, tenant.owner, "GET", "/api/ai/credentials")
    assert [c["provider"] for c in r.json()] == ["openai"] and "KEYMARKER" not in r.text

    await page.get_by_test_id("ai-budget-usd").fill("12.5")
    await page.get_by_test_id("ai-budget-quota").fill("1000")
    await page.get_by_test_id("ai-budget-save").click()
    await page.get_by_test_id("ai-budget-spent").filter(has_text="of $12.50").wait_for()
    await page.get_by_test_id("ai-budget-calls").filter(has_text="of 1000").wait_for()
    r = await api_as(server, tenant.owner, "GET", "/api/ai/budget")
    assert (r.json()["monthly_budget_usd"], r.json()["monthly_call_quota"]) == (12.5, 1000)

    await page.get_by_test_id("ai-usage-chart").wait_for()
    rows = page.get_by_test_id("ai-usage-row")
    assert sorted(await rows.evaluate_all("rs => rs.map(r => r.dataset.model)")) == [
        "anthropic:claude-3-5-haiku-latest", "openai:gpt-4o-mini"]
    mini = page.locator('[data-testid="ai-usage-row"][data-model="openai:gpt-4o-mini"]')
    assert "2" in await mini.locator("td").nth(2).inner_text()           # two calls
    assert await page.locator('[data-testid="ai-usage-chart"] rect[data-model]').count() == 2   # today's two segments


async def test_an_owner_sets_the_email_provider_and_removes_a_suppression(
        sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """An owner switches to an SMTP server with a password (which is then only said to be stored, never
    shown), and finds a suppressed address by search and removes it; the other one stays."""
    await _suppress(server, tenant, "gone@example.com", "kept@example.com")
    page = await sign_in(tenant.owner)
    await page.goto(server.url + "/settings/email")
    await page.get_by_test_id("email-kind").select_option("smtp")
    await page.get_by_label("Host").fill("smtp.example.com")
    await page.get_by_label("Port").fill("2525")
    await page.get_by_label("Username").fill("mailer")
    await page.get_by_label("Password").fill(SMTP_PASSWORD)
    await page.get_by_test_id("email-provider-save").click()
    await page.get_by_test_id("email-provider-saved").wait_for()
    await page.get_by_test_id("email-secret-state").filter(has_text="A secret is stored").wait_for()
    assert "PASSWORD-MARKER" not in await _page_text(page)
    r = await api_as(server, tenant.owner, "GET", "/api/email/provider")
    assert r.json()["kind"] == "smtp" and r.json()["has_secret"] is True and "PASSWORD-MARKER" not in r.text
    assert (r.json()["settings"]["host"], r.json()["settings"]["port"]) == ("smtp.example.com", 2525)

    await page.get_by_test_id("suppression-search").fill("gone")
    await page.get_by_test_id("suppression-kept@example.com").wait_for(state="detached")
    await page.get_by_test_id("suppression-remove-gone@example.com").click()
    await page.get_by_test_id("suppressions-empty").wait_for()
    await page.get_by_test_id("suppression-search").fill("")
    await page.get_by_test_id("suppression-kept@example.com").wait_for()
    r = await api_as(server, tenant.owner, "GET", "/api/email/suppressions")
    assert [s["email"] for s in r.json()] == ["kept@example.com"]


async def test_an_owner_sets_and_removes_a_webhook_signing_key_never_seeing_it(
        sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """An owner on Resend sees a key that cannot be Resend's refused next to its field, sets a valid one and
    is told Resend's signature is now checked (the key itself is never shown), then removes it."""
    r = await api_as(server, tenant.owner, "PUT", "/api/email/provider", json={"kind": "resend", "secret": "re_0123456789"})
    assert r.status_code == 200, r.text
    signing_key = "whsec_" + base64.b64encode(b"SIGNINGMARKER-0123456789abcdef!").decode()
    page = await sign_in(tenant.owner)
    await page.goto(server.url + "/settings/email")
    verification = page.get_by_test_id("email-webhook-verification")
    assert await verification.get_attribute("data-signed-by") == ""
    assert "/api/email/webhooks/resend/" in await page.get_by_test_id("email-webhook-url").inner_text()

    await page.get_by_test_id("email-signing-key").fill("not-a-svix-secret")
    await page.get_by_test_id("email-signing-save").click()
    await page.get_by_test_id("email-signing-error").wait_for()
    assert await page.get_by_test_id("email-signing-key").get_attribute("aria-invalid") == "true"

    await page.get_by_test_id("email-signing-key").fill(signing_key)
    await page.get_by_test_id("email-signing-save").click()
    await page.locator('[data-testid="email-webhook-verification"][data-signed-by="resend"]').wait_for()
    assert await page.get_by_test_id("email-signing-key").input_value() == ""
    assert "SIGNINGMARKER" not in await _page_text(page) and signing_key not in await _page_text(page)
    r = await api_as(server, tenant.owner, "GET", "/api/email/provider")
    assert r.json()["webhook_signing_provider"] == "resend" and signing_key not in r.text
    assert r.json()["kind"] == "resend" and r.json()["has_secret"] is True   # the provider is as it was

    await page.get_by_test_id("email-signing-remove").click()
    await page.locator('[data-testid="email-webhook-verification"][data-signed-by=""]').wait_for()
    r = await api_as(server, tenant.owner, "GET", "/api/email/provider")
    assert r.json()["webhook_signing_provider"] is None


async def test_editors_and_viewers_see_what_they_may_not_change_read_only(
        sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """An editor sees no key form or budget form on the AI screen and a disabled provider form without the
    webhook URL, but may add suppressions; a viewer may not even do that."""
    await _suppress(server, tenant, "bounced@example.com")
    page = await sign_in(tenant.editor)
    await page.goto(server.url + "/settings/ai")
    await page.get_by_test_id("ai-keys-owner-only").wait_for()
    await page.get_by_test_id("ai-budget-readonly").wait_for()
    assert await page.get_by_test_id("ai-key-form").count() == 0
    assert await page.get_by_test_id("ai-budget-form").count() == 0

    await page.goto(server.url + "/settings/email")
    await page.get_by_test_id("email-provider-readonly").wait_for()
    assert await page.get_by_test_id("email-kind").is_disabled()
    assert await page.get_by_test_id("email-provider-save").count() == 0
    assert await page.get_by_test_id("email-webhook-url").count() == 0
    await page.get_by_test_id("suppression-bounced@example.com").wait_for()
    await page.get_by_label("Address to suppress").fill("new@example.com")
    await page.get_by_test_id("suppression-add").click()
    await page.get_by_test_id("suppression-new@example.com").wait_for()

    viewer = await sign_in(tenant.viewer)
    await viewer.goto(server.url + "/settings/email")
    await viewer.get_by_test_id("suppression-new@example.com").wait_for()
    assert await viewer.get_by_test_id("suppression-add-form").count() == 0
    assert await viewer.get_by_test_id("suppression-remove-new@example.com").count() == 0


async def test_the_ai_and_email_screens_have_no_serious_axe_violation(
        sign_in, server: LiveServer, tenant: TenantFixture, e2e_db: Database) -> None:
    """Both screens, filled (a key, usage, suppressions) for an owner and read-only for an editor, pass
    axe-core without a critical or serious violation."""
    await _ledger(e2e_db, tenant.id)
    await _suppress(server, tenant, "axe@example.com")
    r = await api_as(server, tenant.owner, "PUT", "/api/ai/credentials/anthropic", json={"api_key": "sk-ant-0123456789abcdef"})
    assert r.status_code == 200, r.text
    for member in (tenant.owner, tenant.editor):
        page = await sign_in(member)
        await page.goto(server.url + "/settings/ai")
        await page.get_by_test_id("ai-usage-table").wait_for()
        await page.get_by_test_id("ai-budget-spent").wait_for()
        found = await axe_violations(page)
        assert not found, f"/settings/ai as {member.role}:\n  " + "\n  ".join(found)
        await page.goto(server.url + "/settings/email")
        await page.get_by_test_id("suppressions-table").wait_for()
        await page.get_by_test_id("email-webhook-verification").wait_for()
        found = await axe_violations(page)
        assert not found, f"/settings/email as {member.role}:\n  " + "\n  ".join(found)


async def test_suppressions_are_added_and_removed_with_the_keyboard_alone(
        sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """An editor adds an address (Enter in its field) and removes it (Tab to its Remove button, Enter) without
    the mouse; the focus then lands on the list's heading, not the top of the page."""
    page = await sign_in(tenant.editor)
    await page.goto(server.url + "/settings/email")
    await page.get_by_test_id("suppressions-empty").wait_for()
    await page.get_by_label("Address to suppress").focus()
    await page.keyboard.type("keys@example.com")
    await page.keyboard.press("Enter")
    await page.get_by_test_id("suppression-keys@example.com").wait_for()
    await page.get_by_test_id("suppression-search").focus()
    await tab_to(page, "suppression-remove-keys@example.com", limit=5)
    await page.keyboard.press("Enter")
    await page.get_by_test_id("suppressions-empty").wait_for()
    assert await page.evaluate("() => document.activeElement?.id") == "email-suppressions-title"
