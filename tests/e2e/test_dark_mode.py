"""The colour theme: it follows the system setting (prefers-color-scheme) until the person picks
one with the toggle, and every main screen (sign-in, workflow list, canvas, node panel, gallery,
outbox, runs page, workspace settings) has no critical or serious axe-core violation in light and
in dark."""

from __future__ import annotations

from typing import Any

import pytest

from backend.seed import welcome_graph
from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.teams_support import api_as, axe_violations, open_page  # noqa: F401
from tests.e2e.test_editor import eventually, open_canvas


async def _theme(page: Any) -> str:
    return await page.evaluate("() => document.documentElement.dataset.theme")


async def _clean(page: Any, screen: str) -> None:
    found = await axe_violations(page)
    assert not found, f"{screen}:\n  " + "\n  ".join(found)


async def test_the_theme_follows_the_system_until_one_is_picked(sign_in, tenant: TenantFixture) -> None:
    """Dark on a dark system and light on a light one; the toggle then goes light, dark, and back to the system."""
    page = await sign_in(tenant.viewer)
    await page.emulate_media(color_scheme="dark")
    await eventually(lambda: _is(page, "dark"), "the page turns dark with the system")
    await page.emulate_media(color_scheme="light")
    await eventually(lambda: _is(page, "light"), "the page turns light with the system")
    toggle = page.get_by_test_id("theme-toggle")
    await page.emulate_media(color_scheme="dark")
    await toggle.click()                                      # system -> light, whatever the system says
    assert await toggle.get_attribute("data-theme-choice") == "light" and await _theme(page) == "light"
    await page.reload()
    await page.get_by_test_id("theme-toggle").wait_for()
    assert await _theme(page) == "light"                      # the choice is remembered
    await page.get_by_test_id("theme-toggle").click()         # light -> dark
    assert await _theme(page) == "dark"
    await page.emulate_media(color_scheme="light")
    assert await _theme(page) == "dark"                       # a picked theme ignores the system
    await page.get_by_test_id("theme-toggle").click()         # dark -> system (light now)
    await eventually(lambda: _is(page, "light"), "back to following the system")


async def _is(page: Any, theme: str) -> bool:
    return await _theme(page) == theme


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_every_main_screen_passes_axe_in_light_and_dark(scheme: str, open_page, sign_in, server: LiveServer,
                                                             tenant: TenantFixture, make_workflow) -> None:
    """Sign-in, workflow list, canvas, node panel, gallery, outbox, runs page and workspace settings
    (with run retention) have no critical or serious violation in this colour scheme."""
    wf = await make_workflow(welcome_graph())
    r = await api_as(server, tenant.editor, "POST", f"/api/workflows/{wf['id']}/runs", json={"input": {"customer": "Axe"}})
    assert r.status_code == 202, r.text

    signed_out = await open_page(server.url + "/")
    await signed_out.emulate_media(color_scheme=scheme)
    await signed_out.get_by_test_id("signin-form").wait_for()
    assert await _theme(signed_out) == scheme
    await _clean(signed_out, f"sign-in ({scheme})")

    page = await sign_in(tenant.owner)
    await page.emulate_media(color_scheme=scheme)
    await page.get_by_test_id(f"workflow-row-{wf['id']}").wait_for()
    assert await _theme(page) == scheme
    await _clean(page, f"workflow list ({scheme})")

    await open_canvas(page, server, wf["id"])
    await page.get_by_test_id("palette").wait_for()
    await _clean(page, f"canvas ({scheme})")
    await page.locator("[data-testid^='node-']").first.click()
    await page.get_by_test_id("side-panel").wait_for()
    await _clean(page, f"node panel ({scheme})")

    await page.goto(server.url + "/templates")
    card = page.locator("[data-testid^='template-card-']").first
    await card.wait_for()
    await card.click()
    await page.get_by_test_id("template-import-form").wait_for()
    await _clean(page, f"gallery ({scheme})")

    await page.goto(server.url + "/outbox")
    await page.get_by_test_id("outbox").wait_for()
    await _clean(page, f"outbox ({scheme})")

    await page.goto(server.url + "/runs")
    await page.get_by_test_id(f"runs-row-{r.json()['id']}").wait_for()
    await _clean(page, f"runs page ({scheme})")

    await page.goto(server.url + "/settings/workspace")
    await page.get_by_test_id("retention-form").wait_for()
    await page.get_by_test_id("retention-dry-run").click()
    await page.get_by_test_id("retention-report").wait_for()
    await _clean(page, f"workspace settings ({scheme})")
