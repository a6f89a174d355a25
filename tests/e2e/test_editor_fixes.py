"""Fixes found while building a workflow: gallery icons are drawings, not letters; a switch shows one
port per configured case plus default; the floating "Save as template" never covers the palette;
opening a workflow not made from a template asks for its template update without a 404."""

from __future__ import annotations

import re
from pathlib import Path

from tests.backend.conftest import TenantFixture
from tests.e2e.conftest import LiveServer
from tests.e2e.test_editor import open_canvas
from templates.gallery import builtin_templates
from nodes.registry import default_registry

ICONS = Path(__file__).resolve().parents[2] / "editor" / "src" / "canvas" / "icons.tsx"

SWITCH = {"schema_version": 1, "name": "switch", "nodes": [
    {"id": "start", "type": "trigger.manual", "type_version": 1, "position": {"x": 0, "y": 0}, "label": "Start", "config": {}},
    {"id": "route", "type": "logic.switch", "type_version": 1, "position": {"x": 260, "y": 0}, "label": "Route",
     "config": {"value": "{{ trigger.plan }}", "cases": [{"op": "eq", "value": "pro", "label": "Pro"},
                                                         {"op": "eq", "value": "free", "label": "Free"}]}}],
    "edges": [{"id": "e1", "source": "start", "source_port": "output", "target": "route", "target_port": "input"}]}


def test_every_gallery_icon_has_a_drawing() -> None:
    """Each built-in template's icon name is one the editor draws (icons.tsx), so no card falls back."""
    source = ICONS.read_text(encoding="utf-8")
    drawn = set(re.findall(r"^\s+'?([a-z][a-z0-9-]*)'?: '", source, flags=re.M))
    missing = {t.id: t.icon for t in builtin_templates(default_registry()).values() if t.icon not in drawn}
    assert not missing, missing


async def test_gallery_cards_draw_their_icons(sign_in, server: LiveServer, tenant: TenantFixture) -> None:
    """A gallery card's icon is an SVG drawing with no letters in it."""
    page = await sign_in(tenant.viewer)
    await page.goto(server.url + "/templates")
    icon = page.get_by_test_id("template-icon-email-campaign")
    await icon.wait_for()
    assert (await icon.inner_text()).strip() == ""
    assert await icon.locator("svg path").count() == 1
    drawings = await page.locator("[data-testid^='template-icon-'] svg path").evaluate_all("ps => ps.map(p => p.getAttribute('d'))")
    assert len(set(drawings)) == len(drawings) >= 6, "each template has its own drawing"


async def test_a_switch_shows_a_port_per_case_plus_default(sign_in, server: LiveServer, tenant: TenantFixture,
                                                           make_workflow) -> None:
    """A switch with two cases has the ports case_1, case_2 and default, not eight case ports."""
    wf = await make_workflow(SWITCH)
    page = await sign_in(tenant.viewer)
    await open_canvas(page, server, wf["id"])
    await page.get_by_test_id("node-route").wait_for()
    ports = await page.locator("[data-testid^='port-route-out-']").evaluate_all("els => els.map(e => e.dataset.testid)")
    assert ports == ["port-route-out-case_1", "port-route-out-case_2", "port-route-out-default"]


async def test_save_as_template_does_not_cover_the_palette_nor_404s(sign_in, server: LiveServer, tenant: TenantFixture,
                                                                   make_workflow) -> None:
    """The Save as template button sits right of the palette, and the canvas's template-update request
    for a workflow of one's own answers 200."""
    wf = await make_workflow(SWITCH)
    page = await sign_in(tenant.editor)
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/template-update" in r.url else None)
    await open_canvas(page, server, wf["id"])
    button = page.get_by_test_id("template-save")
    await button.wait_for()
    palette, box = await page.get_by_test_id("palette").bounding_box(), await button.bounding_box()
    assert box["x"] >= palette["x"] + palette["width"], (palette, box)
    assert statuses and all(s == 200 for s in statuses), statuses
